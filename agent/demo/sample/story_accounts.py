"""Storylines beyond the quotes: the Mairie's invitation, new prospects, the accountant, suppliers, internal mail."""

from __future__ import annotations

from agent.demo.sample.cast import (
    BOIS_FACTURES,
    CAMILLE,
    CLAIRE,
    COMPTA_BOX,
    CONTACT_BOX,
    ELUE,
    FORM_ROBOT,
    GERARD,
    JULIEN,
    MARC,
    MERCIER_COMPTA,
    PASCAL,
    PATRICK,
    QRA,
    RIVIERE,
    VALERIE,
)
from agent.demo.sample.dates import format_long
from agent.demo.sample.meetings import acceptance_ics, invitation_ics, local
from agent.demo.sample.messages import Mail
from agent.demo.sample.script import at, fake_pdf, reply


def mairie() -> list[Mail]:
    """Mairie de Saint-Clément: a public buyer's request, then an Outlook invitation to both colleagues."""
    ask = Mail("mairie-consultation", PASCAL, (CONTACT_BOX,), at("2026-11-04 10:20"),
               "Consultation – aménagement de la médiathèque",
               "Madame, Monsieur,\n\nLa commune de Saint-Clément prépare l'aménagement de sa médiathèque (banque "
               "d'accueil, rayonnages, coin lecture enfants). Dans le cadre d'une procédure adaptée, nous "
               "consultons des entreprises locales.\n\nVous trouverez le cahier des charges en pièce jointe.\n\n"
               "Veuillez agréer, Madame, Monsieur, mes salutations distinguées.",
               attachments=(fake_pdf("CCTP_mediatheque_Saint-Clement.pdf", "CCTP mediatheque"),))
    interest = reply("mairie-interet", ask, CLAIRE, at("2026-11-05 09:40"),
                     "Monsieur Lefèvre,\n\nNous vous remercions pour cette consultation à laquelle nous "
                     "répondrons. Julien Petit, notre chargé d'affaires, souhaiterait visiter les locaux avant de "
                     "chiffrer.\n\nVeuillez agréer, Monsieur, nos salutations distinguées.", cc=(JULIEN,))
    start = local("2026-11-26 10:00")
    invitation = Mail("mairie-invitation", PASCAL, (JULIEN, CLAIRE), at("2026-11-17 09:12"),
                      "Réunion – Aménagement de la médiathèque",
                      f"Quand : {format_long(start)} 10:00-11:30 (UTC+01:00) Bruxelles, Copenhague, Madrid, Paris.\n"
                      "Où : Mairie de Saint-Clément – salle du conseil\n\n"
                      "Bonjour,\n\nJe vous propose une réunion de présentation du projet, suivie d'une visite des "
                      "locaux, en présence de Mme Caron, adjointe à la culture.\n\nMerci de confirmer votre "
                      "présence.", cc=(ELUE,), signed=False, calendar=invitation_ics())
    accept = Mail("mairie-acceptation", JULIEN, (PASCAL,), at("2026-11-17 11:03"),
                  "Accepté : Réunion – Aménagement de la médiathèque", "", parent=invitation, signed=False,
                  quote_parent=False, calendar=acceptance_ics())
    return [ask, interest, invitation, accept]


def prospects() -> list[Mail]:
    """Two first contacts: one writes to contact@ from wanadoo.fr, one comes through the website's form."""
    cave = Mail("sarment-premier-contact", GERARD, (CONTACT_BOX,), at("2026-11-18 21:14"),
                "Demande d'informations – agencement cave à vins",
                "Bonjour,\n\nJ'ouvre une cave à vins et épicerie fine à Lyon 4e au printemps. Je cherche un "
                "menuisier pour les casiers à bouteilles (environ 1 200 bouteilles), un comptoir de "
                "dégustation et la vitrine.\n\nFaites-vous ce genre de travaux ? Quel serait l'ordre de prix ?\n\n"
                "Cordialement,", unread=True)
    form = Mail("veto-formulaire", FORM_ROBOT, (CONTACT_BOX,), at("2026-11-16 13:07"),
                "[atelier-durand.fr] Nouveau message depuis le formulaire de contact",
                "Nom : Camille Roux\nSociété : Clinique vétérinaire des Monts d'Or\n"
                "E-mail : camille.roux@clinique-veto-montsdor.fr\nTéléphone : 04 65 71 77 02\n"
                "Message :\nBonjour, nous agrandissons la clinique et cherchons un devis pour l'accueil (banque "
                "d'accueil + rangements de la salle d'attente). Merci de me rappeler.\n\n--\nEnvoyé depuis "
                "https://www.atelier-durand.fr/contact", has_message_id=False, reply_to=CAMILLE, signed=False,
                extra_headers=(("X-Mailer", "PHP/8.1.2"),))
    call = reply("veto-rappel", form, CLAIRE, at("2026-11-16 16:45"),
                 "Bonjour Docteur Roux,\n\nMerci pour votre message sur notre site. Comme convenu au téléphone, "
                 "Julien Petit passera à la clinique mardi 24/11/2026 à 12h30.\n\nBien cordialement,",
                 to=(CAMILLE,), cc=(JULIEN,))
    return [cave, form, call]


def accountant() -> list[Mail]:
    """Mercier Expertise Comptable: VAT and year-end paperwork with Julien."""
    missing = Mail("mercier-pieces", VALERIE, (JULIEN,), at("2026-10-13 11:40"), "Pièces manquantes – TVA de septembre",
                   "Bonjour Julien,\n\nPour finaliser la déclaration de TVA de septembre, il me manque les factures "
                   "d'achat de Bois & Négoce du Rhône (deux factures) et le relevé bancaire du 30/09/2026.\n\n"
                   "Merci de me les transmettre avant le 16/10/2026.\n\nBien cordialement,")
    sent = reply("mercier-pieces-envoi", missing, JULIEN, at("2026-10-14 17:55"),
                 "Bonjour Valérie,\n\nVoici les deux factures et le relevé.\n\nCordialement,",
                 attachments=(fake_pdf("Factures_BNR_septembre.pdf", "Factures septembre"),
                              fake_pdf("Releve_2026-09.pdf", "Releve septembre")))
    vat = Mail("mercier-tva-octobre", MERCIER_COMPTA, (COMPTA_BOX,), at("2026-11-09 09:05"),
               "Déclaration de TVA d'octobre – montant à régler",
               "Bonjour,\n\nLa déclaration de TVA d'octobre a été télétransmise. Montant à régler : 6 842,00 €, "
               "prélevé le 19/11/2026.\n\nCordialement,")
    vat_ok = reply("mercier-tva-ok", vat, JULIEN, at("2026-11-09 10:12"),
                   "Bonjour,\n\nBien noté, la trésorerie est suffisante. Merci.\n\nCordialement,", cc=(MARC,))
    meeting = Mail("mercier-bilan", VALERIE, (JULIEN,), at("2026-11-19 10:05"), "Rendez-vous bilan intermédiaire",
                   "Bonjour Julien,\n\nJe vous propose de faire le point sur la situation intermédiaire jeudi "
                   "03/12/2026 à 14h, en visio. Je vous envoie le lien la veille.\n\nBien cordialement,",
                   cc=(CLAIRE, MARC))
    return [missing, sent, vat, vat_ok, meeting]


def suppliers() -> list[Mail]:
    """Wood, hardware and transport: orders, confirmations, a delivery slot and a supplier invoice."""
    order = Mail("bois-commande-chene", JULIEN, (PATRICK,), at("2026-10-21 08:05"),
                 "Commande chêne – chantier Hôtel Les Tilleuls",
                 "Bonjour Patrick,\n\nMerci de nous préparer :\n- 18 panneaux plaqué chêne 19 mm 2800x2070 ;\n"
                 "- 6 plateaux chêne massif 27 mm ;\n- 40 m de chant chêne 23 mm.\n\nLivraison souhaitée semaine "
                 "prochaine à l'atelier.\n\nCordialement,")
    confirmed = reply("bois-commande-confirmee", order, PATRICK, at("2026-10-21 10:48"),
                      "Bonjour Julien,\n\nCommande enregistrée sous le n° C-2026-5512. Livraison prévue mercredi "
                      "28/10/2026 le matin.\n\nCordialement,",
                      attachments=(fake_pdf("AR_commande_C-2026-5512.pdf", "Accuse de reception C-2026-5512"),))
    invoice = Mail("bois-facture", BOIS_FACTURES, (JULIEN,), at("2026-11-02 06:30"),
                   "Facture F2026-10873 – Bois & Négoce du Rhône",
                   "Madame, Monsieur,\n\nVeuillez trouver ci-joint la facture F2026-10873 relative à votre commande "
                   "C-2026-5512, d'un montant de 7 918,44 € TTC, payable à 45 jours fin de mois.\n\nCe message est "
                   "envoyé automatiquement, merci de ne pas y répondre.\n\nService facturation\nBois & Négoce du "
                   "Rhône", cc=(COMPTA_BOX,), signed=False,
                   attachments=(fake_pdf("Facture_F2026-10873.pdf", "Facture F2026-10873"),))
    hinges = Mail("qra-commande", JULIEN, (QRA,), at("2026-10-26 14:30"), "Commande charnières et coulisses",
                  "Bonjour,\n\nMerci de nous livrer :\n- 60 charnières invisibles 110° avec amortisseur ;\n"
                  "- 24 paires de coulisses à sortie totale 450 mm.\n\nCompte client 41 0277.\n\nCordialement,")
    hinges_ok = reply("qra-commande-ok", hinges, QRA, at("2026-10-26 16:02"),
                      "Bonjour,\n\nLes coulisses sont en stock ; les charnières arrivent le 04/11/2026. Nous "
                      "livrerons l'ensemble à cette date sauf avis contraire.\n\nCordialement,")
    transport = Mail("riviere-livraison", RIVIERE, (JULIEN,), at("2026-11-12 15:12"),
                     "Livraison façades – Hôtel Les Tilleuls",
                     "Bonjour,\n\nLa livraison des façades à l'hôtel est programmée le mardi 17/11/2026 entre 7h "
                     "et 9h. Merci de prévoir deux personnes pour le déchargement.\n\nCordialement,")
    transport_ok = reply("riviere-livraison-ok", transport, JULIEN, at("2026-11-12 16:40"),
                         "Bonjour Karim,\n\nC'est noté, nous serons deux sur place dès 7h.\n\nCordialement,")
    return [order, confirmed, invoice, hinges, hinges_ok, transport, transport_ok]


def internal() -> list[Mail]:
    """Claire and Julien between themselves (and Marc, the manager, who is not a synced mailbox)."""
    week = Mail("interne-planning", CLAIRE, (JULIEN,), at("2026-10-12 08:05"), "Planning de la semaine",
                "Salut Julien,\n\nCette semaine : mardi 10h visite Hôtel Les Tilleuls (ensemble), jeudi fin de "
                "journée mesures chez Boulangerie Lemaire. Tu peux prendre le fourgon jeudi ?\n\nClaire")
    week_ok = reply("interne-planning-ok", week, JULIEN, at("2026-10-12 08:31"),
                    "Oui pas de souci pour le fourgon. Je te rejoins à l'hôtel mardi.\n\nJulien", signed=False)
    pricing = Mail("interne-chiffrage-rousseau", CLAIRE, (JULIEN,), at("2026-10-23 14:02"),
                   "Chiffrage Rousseau – temps de pose ?",
                   "Julien,\n\nPour le devis du cabinet Rousseau, tu comptes combien de temps de pose ? Je partais "
                   "sur 2 jours à deux.\n\nClaire")
    pricing_answer = reply("interne-chiffrage-rousseau-reponse", pricing, JULIEN, at("2026-10-23 15:20"),
                           "Plutôt 2,5 jours : il faut reprendre la plinthe sur tout le mur.\n\nJulien",
                           signed=False)
    holidays = Mail("interne-conges", MARC, (CLAIRE, JULIEN), at("2026-11-06 17:45"), "Congés de fin d'année",
                    "Bonjour à tous,\n\nL'atelier sera fermé du jeudi 24/12/2026 au vendredi 01/01/2027 inclus. "
                    "Merci de prévenir vos clients et de caler les poses en conséquence.\n\nMarc")
    measures = Mail("interne-cotes-pharmacie", JULIEN, (CLAIRE,), at("2026-11-06 12:10"),
                    "Relevé de cotes Pharmacie du Parc",
                    "Claire,\n\nCi-joint le relevé de ce matin. Attention, le sol n'est pas de niveau côté vitrine "
                    "(2 cm sur 4 m), à prévoir dans le chiffrage.\n\nJulien", signed=False,
                    attachments=(fake_pdf("Cotes_pharmacie_du_parc.pdf", "Releve de cotes"),))
    pipeline = Mail("interne-point-pipeline", CLAIRE, (JULIEN,), at("2026-11-19 17:38"), "Point relances lundi",
                    "Julien,\n\nOn fait le point lundi à 8h30 sur les devis en attente (SCI Les Acacias, Pharmacie "
                    "du Parc, Faure Immobilier) ? Je t'ai envoyé l'invitation.\n\nClaire", cc=(MARC,))
    return [week, week_ok, pricing, pricing_answer, holidays, measures, pipeline]


def storylines() -> list[Mail]:
    return [*mairie(), *prospects(), *accountant(), *suppliers(), *internal()]
