"""The local status page: FastAPI + Jinja2, server-rendered, with a JSON twin of every page under /api.

Map: app.py builds the app (``create_app``), security.py decides who may read and change, pages.py and actions.py
are the routes, content.py assembles what each page shows from AgentService, rendering.py/templates/static turn
it into HTML, metrics.py writes /metrics, server.py runs it in a thread (``serve``) for the daemon and the CLI.
"""
