"""The demo mail a CRM must not mistake for conversation: newsletters, notifications, auto-replies, a bounce.

Also here: a message whose charset lies (Latin-1 labelled UTF-8) and the ordinary answer that follows it.
"""

from __future__ import annotations

from dataclasses import replace

from agent.demo.sample import ids
from agent.demo.sample.cast import (
    ARTISANS_ROBOT,
    BANQUE_ROBOT,
    BOIS_PROMO,
    CLAIRE,
    COMPTA_BOX,
    ERIK,
    ISABELLE,
    JULIEN,
    LETTRE_ROBOT,
    MAILER_DAEMON,
    OLIVIER,
    Person,
)
from agent.demo.sample.dates import format_rfc5322
from agent.demo.sample.messages import Mail, render
from agent.demo.sample.script import at, reply
from agent.demo.sample.story_quotes import AUTO_REPLY_HEADERS

_LETTRE_TOPICS = (
    ("Panneaux bas carbone : ce qui change en 2027", "Les fabricants publient leurs premières FDES ; ce qu'il faut "
     "demander à vos fournisseurs."),
    ("Agencement de commerces : les tendances de la rentrée", "Bois clair, cannage et éclairage intégré : tour "
     "d'horizon des boutiques ouvertes cet automne."),
    ("Commande publique : répondre à un MAPA sans y passer la semaine", "Les pièces indispensables et les erreurs "
     "qui font écarter une offre."),
    ("Quincaillerie : les charnières à amortisseur intégré comparées", "Six modèles testés en atelier sur "
     "50 000 cycles."),
    ("Recrutement : l'apprentissage en menuiserie repart", "Les aides 2027 et les démarches auprès du CFA."),
    ("Sécurité : aspiration des poussières de bois, le point réglementaire", "Valeurs limites, contrôles annuels "
     "et registre : la checklist."),
)


def _list_headers(list_id: str, domain: str, token: str) -> tuple[tuple[str, str], ...]:
    return (("List-Id", list_id),
            ("List-Unsubscribe",
             f"<https://{domain}/desinscription/{token}>, <mailto:desinscription+{token}@{domain}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"), ("Precedence", "bulk"),
            ("Feedback-ID", f"{token[:8]}:newsletter:{domain}"))


def _html(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{line}</p>" for line in text.split("\n\n"))
    return (f"<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>{title}</title></head>"
            f"<body><h1>{title}</h1>{paragraphs}<p><a href=\"#\">Se désinscrire</a></p></body></html>\n")


def newsletters() -> list[Mail]:
    mails = []
    for issue, (day, (title, teaser)) in enumerate(zip(
            ("2026-10-13", "2026-10-20", "2026-10-27", "2026-11-03", "2026-11-10", "2026-11-17"), _LETTRE_TOPICS)):
        token = ids.hex_token(24, "lettre", issue)
        text = (f"La Lettre de l'Agencement – n° {212 + issue}\n\n{title}\n\n{teaser}\n\nLire l'article : "
                f"https://www.lettre-agencement.fr/n{212 + issue}\n\nVous recevez cette lettre car vous êtes "
                "abonné(e) avec l'adresse claire.martin@atelier-durand.fr.")
        mails.append(Mail(f"lettre-{212 + issue}", LETTRE_ROBOT, (CLAIRE,), at(f"{day} 07:00"),
                          f"n° {212 + issue} – {title}", text, signed=False, html=_html(title, text),
                          extra_headers=_list_headers("La Lettre de l'Agencement <lettre.news.lettre-agencement.fr>",
                                                      "news.lettre-agencement.fr", token)))
    for number, (day, offer) in enumerate((("2026-10-15", "-15 % sur les panneaux mélaminés"),
                                           ("2026-10-29", "Quincaillerie : 3 achetées, la 4e offerte"),
                                           ("2026-11-12", "Déstockage de plans de travail stratifiés"))):
        token = ids.hex_token(24, "promo", number)
        text = (f"{offer}\n\nOffre réservée aux professionnels, valable dans nos deux dépôts jusqu'à épuisement des "
                "stocks.\n\nBois & Négoce du Rhône – ZI Nord, 69140 Rillieux-la-Pape")
        mails.append(Mail(f"bois-promo-{number}", BOIS_PROMO, (JULIEN,), at(f"{day} 10:30"),
                          f"Les bons plans du mois : {offer}", text, signed=False, html=_html(offer, text),
                          extra_headers=_list_headers("<clients-pro.info.bois-negoce-rhone.fr>",
                                                      "info.bois-negoce-rhone.fr", token)))
    members = Person("adherents", "Adhérents", "Artisans du Rhône", "adherents@artisans-du-rhone.fr", None,
                     client="robot")
    for number, (day, title) in enumerate((("2026-10-22", "Réunion d'information : facturation électronique"),
                                           ("2026-11-19", "Assemblée générale et vœux des artisans"))):
        token = ids.hex_token(24, "artisans", number)
        text = (f"{title}\n\nChers adhérents,\n\nRetrouvez toutes les informations et l'inscription sur "
                "l'espace adhérents.\n\nL'équipe des Artisans du Rhône")
        mails.append(Mail(f"artisans-{number}", ARTISANS_ROBOT, (members,), at(f"{day} 18:15"),
                          f"[Artisans du Rhône] {title}", text, signed=False,
                          delivered_to=(CLAIRE.address, JULIEN.address),
                          extra_headers=_list_headers("<adherents.artisans-du-rhone.fr>", "artisans-du-rhone.fr",
                                                      token)))
    return mails


def notifications() -> list[Mail]:
    """Automated bank messages: no List-Id, but Auto-Submitted says what they are."""
    automated = (("Auto-Submitted", "auto-generated"),)
    return [
        Mail("banque-releve-octobre", BANQUE_ROBOT, (COMPTA_BOX,), at("2026-11-04 05:12"),
             "Votre relevé de compte est disponible",
             "Madame, Monsieur,\n\nVotre relevé de compte professionnel du mois d'octobre est disponible dans votre "
             "espace client.\n\nCeci est un message automatique, merci de ne pas y répondre.\n\nCrédit Rhodanien",
             signed=False, extra_headers=automated),
        Mail("banque-prelevement-tva", BANQUE_ROBOT, (COMPTA_BOX,), at("2026-11-19 06:03"),
             "Avis d'opération : prélèvement DGFIP",
             "Madame, Monsieur,\n\nUn prélèvement de 6 842,00 € (DGFIP – TVA) a été débité sur votre compte "
             "professionnel le 19/11/2026.\n\nCrédit Rhodanien", signed=False, extra_headers=automated),
    ]


def english_supplier() -> list[Mail]:
    """Julien writes to a Swedish supplier, gets an English out-of-office, then the real answer."""
    question = Mail("nordic-delai", JULIEN, (ERIK,), at("2026-10-29 09:10"), "Lead time for soft-close hinges",
                    "Dear Mr Lindqvist,\n\nCould you tell us the current lead time for 200 pcs of your soft-close "
                    "hinge NH-110 delivered to Lyon, France?\n\nBest regards,")
    away = reply("nordic-absence", question, ERIK, at("2026-10-29 09:10"),
                 "Thank you for your email. I am out of the office until Monday 9 November with limited access to "
                 "email.\nFor urgent matters please contact orders@nordichinges.se.\n\nKind regards,\nErik Lindqvist",
                 signed=False, quote_parent=False, extra_headers=AUTO_REPLY_HEADERS)
    away.subject = f"Automatic reply: {question.subject}"
    answer = reply("nordic-reponse", question, ERIK, at("2026-11-09 13:25"),
                   "Dear Mr Petit,\n\nLead time is currently 3 weeks ex works. I attach our price list for 2027.\n\n"
                   "Kind regards,")
    return [question, away, answer]


def bounce() -> list[Mail]:
    """A typo in the client's domain: Postfix returns a DSN, Claire resends to the right address."""
    wrong = replace(ISABELLE, key="isabelle_typo", address="i.fontaine@hotel-les-tilleul.fr")
    original = Mail("tilleuls-planning-typo", CLAIRE, (wrong,), at("2026-11-03 14:02"),
                    "Planning de pose – 1er étage",
                    "Bonjour Madame Fontaine,\n\nComme convenu, voici le planning de pose du 1er étage : chambres "
                    "101 à 106 du 09/11/2026 au 13/11/2026, chambres 107 à 112 la semaine suivante.\n\nBien "
                    "cordialement,", cc=())

    def dsn(mail: Mail) -> bytes:
        queue_id = ids.hex_token(11, "queue", original.key).upper()
        headers = render(original).split(b"\n\n", 1)[0].decode("ascii")
        arrival = format_rfc5322(original.when)
        mark = f"{queue_id}.{int(mail.when.timestamp())}/mail.atelier-durand.fr"
        return "\n".join([
            f"Message-ID: <{mail.message_id}>", f"Date: {format_rfc5322(mail.when)}",
            "From: MAILER-DAEMON@mail.atelier-durand.fr (Mail Delivery System)",
            "Subject: Undelivered Mail Returned to Sender", f"To: {CLAIRE.address}",
            "Auto-Submitted: auto-replied", "MIME-Version: 1.0",
            "Content-Type: multipart/report; report-type=delivery-status;", f'\tboundary="{mark}"',
            "Content-Transfer-Encoding: 8bit", "", "This is a MIME-encapsulated message.", "",
            f"--{mark}", "Content-Description: Notification", "Content-Type: text/plain; charset=us-ascii", "",
            "This is the mail system at host mail.atelier-durand.fr.", "",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients. It's attached below.", "",
            "For further assistance, please send mail to postmaster.", "",
            "If you do so, please include this problem report. You can",
            "delete your own text from the attached returned message.", "",
            "                   The mail system", "",
            f"<{wrong.address}>: Host or domain name not found. Name service error for",
            "    name=hotel-les-tilleul.fr type=MX: Host not found, try again", "",
            f"--{mark}", "Content-Description: Delivery report", "Content-Type: message/delivery-status", "",
            "Reporting-MTA: dns; mail.atelier-durand.fr", f"X-Postfix-Queue-ID: {queue_id}",
            f"X-Postfix-Sender: rfc822; {CLAIRE.address}", f"Arrival-Date: {arrival}", "",
            f"Final-Recipient: rfc822; {wrong.address}", f"Original-Recipient: rfc822;{wrong.address}",
            "Action: failed", "Status: 5.4.4",
            "Diagnostic-Code: X-Postfix; Host or domain name not found. Name service error",
            "    for name=hotel-les-tilleul.fr type=MX: Host not found, try again", "",
            f"--{mark}", "Content-Description: Undelivered Message Headers", "Content-Type: text/rfc822-headers",
            "", headers, "", f"--{mark}--", ""]).encode("ascii")

    returned = Mail("tilleuls-planning-dsn", MAILER_DAEMON, (CLAIRE,), at("2026-11-03 14:02"),
                    "Undelivered Mail Returned to Sender", "", builder=dsn)
    resent = Mail("tilleuls-planning", CLAIRE, (ISABELLE,), at("2026-11-03 14:09"), original.subject,
                  original.body, cc=(JULIEN,))
    return [original, returned, resent]


def broken_charset() -> list[Mail]:
    """An old webmail labels Latin-1 bytes as UTF-8; Claire's program shows (and quotes) the damage."""
    damaged = "Probl\ufffdme charni\ufffdre vitrine"
    text = ("Bonjour Mme Martin,\n\nLa charni\u00e8re de la vitrine du magasin (pos\u00e9e par vous en 2023) est "
            "cass\u00e9e, la porte ne ferme plus. Pouvez-vous passer la r\u00e9parer ? Je suis l\u00e0 tous les "
            "matins sauf le mercredi.\n\nCordialement\nO. Vasseur\n")

    def latin1_labelled_utf8(mail: Mail) -> bytes:
        head = "\n".join([f"Message-ID: <{mail.message_id}>", f"Date: {format_rfc5322(mail.when)}",
                          f"From: Olivier Vasseur <{OLIVIER.address}>", f"To: {CLAIRE.address}",
                          "Subject: =?utf-8?Q?Probl=E8me_charni=E8re_vitrine?=", "MIME-Version: 1.0",
                          'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit",
                          "X-Mailer: Open-Xchange Mailer v7.10.6-Rev62", "", ""])
        return head.encode("ascii") + text.encode("latin-1")

    broken = Mail("vasseur-charniere", OLIVIER, (CLAIRE,), at("2026-11-10 08:52"), "Problème charnière vitrine",
                  text.replace("\u00e8", "\ufffd").replace("\u00e9", "\ufffd").replace("\u00e0", "\ufffd"),
                  signed=False, builder=latin1_labelled_utf8)
    answer = reply("vasseur-reponse-charniere", broken, CLAIRE, at("2026-11-10 11:34"),
                   "Bonjour Monsieur Vasseur,\n\nJulien passera changer la charnière jeudi matin. Nous en "
                   "profiterons pour regarder vos présentoirs, qui commencent à dater.\n\nBien cordialement,",
                   cc=(JULIEN,))
    answer.subject = f"Re: {damaged}"
    return [broken, answer]


def storylines() -> list[Mail]:
    return [*newsletters(), *notifications(), *english_supplier(), *bounce(), *broken_charset()]
