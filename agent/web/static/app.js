// crm-agent status page. Loaded from /static (the Content-Security-Policy forbids inline scripts); the page works
// without it: this only asks before irreversible-looking actions and refreshes the overview while it is idle.
"use strict";

document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

(function refreshWhileIdle() {
  const seconds = Number(document.body.dataset.refresh || 0);
  if (!seconds) {
    return;
  }
  let lastInput = Date.now();
  for (const name of ["keydown", "pointerdown", "focusin"]) {
    document.addEventListener(name, () => { lastInput = Date.now(); });
  }
  window.setInterval(() => {
    const typing = document.activeElement && ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (!typing && Date.now() - lastInput > seconds * 1000 && document.visibilityState === "visible") {
      window.location.reload();
    }
  }, seconds * 1000);
})();
