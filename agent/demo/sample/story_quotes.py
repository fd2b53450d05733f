"""Storylines around Claire's quotes: answered, answered to Julien only, unanswered, answered by an auto-reply.

Each function tells one client's story from first contact to where it stands at the anchor; ``QUOTES`` (in
expectations) fixes the quote numbers, amounts and dates these mails carry.
"""

from __future__ import annotations

from agent.demo.sample.cast import (
    ANTOINE,
    BERNARD,
    CLAIRE,
    CONTACT_BOX,
    CRECHE_BOX,
    ELODIE,
    ISABELLE,
    JULIEN,
    LAURENT,
    NATHALIE,
    SOPHIE,
    SOPHIE_HOME,
    THOMAS,
)
from agent.demo.sample.expectations import QUOTE_BY_NUMBER, format_euros
from agent.demo.sample.messages import Mail
from agent.demo.sample.script import at, fake_jpeg, fake_pdf, quote_mail, reply

AUTO_REPLY_HEADERS = (("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All"))


def tilleuls() -> list[Mail]:
    """Hôtel Les Tilleuls: Claire copies Julien on everything, the director answers everyone."""
    ask = Mail("tilleuls-demande", ISABELLE, (CONTACT_BOX,), at("2026-10-09 11:02"),
               "Rénovation de 12 chambres – demande de rendez-vous",
               "Bonjour,\n\nNous prévoyons de rénover 12 chambres de notre hôtel cet hiver (têtes de lit, placards "
               "et bureaux). Votre atelier nous a été recommandé par l'hôtel du Parc.\n\nSerait-il possible "
               "qu'une personne passe la semaine prochaine pour voir les chambres ?\n\nCordialement,")
    visit = reply("tilleuls-visite", ask, CLAIRE, at("2026-10-09 14:20"),
                  "Bonjour Madame Fontaine,\n\nMerci pour votre message. Julien Petit, notre chargé d'affaires, et "
                  "moi-même pouvons passer mardi 13/10/2026 à 10h pour voir les chambres et prendre les cotes.\n\n"
                  "Cela vous conviendrait-il ?\n\nBien cordialement,", cc=(JULIEN,))
    ok = reply("tilleuls-visite-ok", visit, ISABELLE, at("2026-10-12 08:47"),
               "Bonjour,\n\nC'est parfait pour mardi 10h, je vous attendrai à la réception.\n\nBien cordialement,",
               cc=(JULIEN,))
    quote = quote_mail(QUOTE_BY_NUMBER["2026-036"], "Bonjour Madame Fontaine,",
                       "Suite à notre visite du 13/10/2026 avec Julien, et comme convenu, voici notre proposition "
                       "pour les chambres du 1er et du 2e étage.",
                       "Délai de fabrication : 6 semaines à réception de l'acompte de 30 %.")
    answer = reply("tilleuls-devis-reponse", quote, ISABELLE, at("2026-10-16 09:58"),
                   "Bonjour Madame Martin,\n\nBien reçu, merci. Le devis est validé sur le principe par la direction "
                   "générale. Nous souhaiterions commencer par le 1er étage pour ne pas fermer tout l'hôtel.\n\n"
                   "Pourrions-nous fixer un point hebdomadaire pendant le chantier ?\n\nCordialement,",
                   cc=(JULIEN,))
    weekly = reply("tilleuls-point-hebdo", answer, JULIEN, at("2026-10-16 11:40"),
                   "Bonjour Madame Fontaine,\n\nAvec plaisir. Je vous propose un point chaque mardi à 9h30 à "
                   "l'hôtel, à partir du 20/10/2026 et jusqu'à la fin du chantier. Je vous envoie l'invitation "
                   "dans la foulée.\n\nDémarrage du 1er étage prévu le 09/11/2026.\n\nCordialement,",
                   cc=(CLAIRE,))
    notes = Mail("tilleuls-compte-rendu", JULIEN, (ISABELLE,), at("2026-10-27 14:15"),
                 "Compte rendu – point chantier Hôtel Les Tilleuls",
                 "Bonjour Madame Fontaine,\n\nVoici le compte rendu de notre point du 27/10/2026 :\n"
                 "- échantillons de chêne et de noyer validés (chêne clair retenu) ;\n"
                 "- poignées : modèle inox brossé ;\n- accès au monte-charge le matin avant 10h.\n\n"
                 "Prochain point le mardi 10/11/2026 (pas de point le 03/11, semaine de vacances).\n\nCordialement,",
                 cc=(CLAIRE,))
    moved = Mail("tilleuls-point-decale", JULIEN, (ISABELLE,), at("2026-11-10 16:02"),
                 "Point de la semaine prochaine décalé",
                 "Bonjour Madame Fontaine,\n\nComme évoqué ce matin, je décale le point de mardi prochain au "
                 "mercredi 18/11/2026 à 14h (livraison des façades le mardi matin).\n\nCordialement,")
    moved_ok = reply("tilleuls-point-decale-ok", moved, ISABELLE, at("2026-11-10 17:31"),
                     "Bonjour,\n\nPas de souci pour mercredi 14h.\n\nCordialement,")
    deposit = Mail("tilleuls-acompte", CLAIRE, (ISABELLE,), at("2026-10-19 09:15"),
                   "Facture d'acompte FA-2026-0107 – Hôtel Les Tilleuls",
                   "Bonjour Madame Fontaine,\n\nVeuillez trouver ci-joint la facture d'acompte de 30 % "
                   "(12 480,00 € HT) "
                   "correspondant au devis n° 2026-036.\n\nBien cordialement,", cc=(JULIEN,),
                   attachments=(fake_pdf("Facture_FA-2026-0107.pdf", "Facture FA-2026-0107"),))
    accounting = reply("tilleuls-acompte-rib", deposit, ISABELLE, at("2026-10-19 15:47"),
                       "Bonjour,\n\nJe transmets à notre service comptable qui vous contactera pour le RIB.\n\n"
                       "Cordialement,", cc=(JULIEN,))
    return [ask, visit, ok, quote, answer, weekly, notes, moved, moved_ok, deposit, accounting]


def lemaire() -> list[Mail]:
    """Boulangerie Lemaire: first contact from a personal orange.fr address, quote, questions, order form."""
    first = Mail("lemaire-premier-contact", SOPHIE_HOME, (CONTACT_BOX,), at("2026-10-14 07:12"),
                 "Projet comptoir boulangerie",
                 "Bonjour,\n\nJe tiens la boulangerie Lemaire rue Saint-Georges. Nous voudrions refaire le comptoir "
                 "de vente et la vitrine réfrigérée. Je vous joins deux photos.\n\nPouvez-vous me rappeler au "
                 "06 39 98 41 27 ?\n\nMerci,",
                 attachments=(fake_jpeg("IMG_2041.jpg"), fake_jpeg("IMG_2042.jpg")))
    call_back = reply("lemaire-rappel", first, CLAIRE, at("2026-10-14 10:05"),
                      "Bonjour Madame Lemaire,\n\nMerci pour les photos. Je vous ai laissé un message ce matin. "
                      "Nous pouvons passer prendre les mesures jeudi 15/10/2026 en fin de journée, après la "
                      "fermeture.\n\nPour la suite, je vous écrirai plutôt sur l'adresse de la boulangerie, si cela "
                      "vous convient.\n\nBien cordialement,")
    quote = quote_mail(QUOTE_BY_NUMBER["2026-038"], "Bonjour Madame Lemaire,",
                       "Comme promis après notre passage de jeudi, voici notre proposition pour le comptoir de "
                       "vente en chêne et l'habillage de la vitrine.",
                       "Délai : 4 semaines à réception du bon de commande signé et de l'acompte.")
    questions = reply("lemaire-devis-questions", quote, SOPHIE, at("2026-10-21 06:48"),
                      "Bonjour Claire,\n\nMerci pour le devis, il correspond à ce que nous voulions. Deux "
                      "questions :\n- le plateau peut-il être en quartz plutôt qu'en stratifié ?\n- la pose peut-elle "
                      "se faire un lundi, jour de fermeture ?\n\nSophie")
    answers = reply("lemaire-devis-precisions", questions, CLAIRE, at("2026-10-21 09:20"),
                    "Bonjour Sophie,\n\nOui pour le quartz (plus-value de 640,00 € HT, je l'ajouterai sur le bon de "
                    "commande). La pose se fait sur deux jours : lundi et mardi matin, nous pouvons commencer le "
                    "lundi à 6h.\n\nBien cordialement,")
    order = reply("lemaire-bon-de-commande", answers, SOPHIE, at("2026-10-26 19:05"),
                  "Bonsoir Claire,\n\nVeuillez trouver ci-joint le bon de commande signé pour le devis 2026-038, "
                  "avec l'option plateau quartz. Le virement de l'acompte part demain.\n\nBonne soirée,\nSophie",
                  attachments=(fake_pdf("Bon_de_commande_2026-038_signe.pdf", "Bon de commande signe 2026-038"),),
                  flagged=True)
    order.subject = "Bon de commande signé – devis 2026-038"
    confirm = reply("lemaire-confirmation", order, CLAIRE, at("2026-10-27 08:40"),
                    "Bonjour Sophie,\n\nMerci, commande bien reçue ! Julien, en copie, va vous proposer des dates de "
                    "pose d'ici la fin de semaine.\n\nBien cordialement,", cc=(JULIEN,))
    dates = Mail("lemaire-dates-pose", JULIEN, (SOPHIE,), at("2026-11-06 11:22"), "Dates de pose – comptoir",
                 "Bonjour Madame Lemaire,\n\nLes pièces seront prêtes fin novembre. Je vous propose la pose les "
                 "lundi 30/11/2026 et mardi 01/12/2026 (boulangerie fermée le lundi).\n\nCordialement,",
                 cc=(CLAIRE,))
    dates_ok = reply("lemaire-dates-pose-ok", dates, SOPHIE, at("2026-11-07 13:10"),
                     "Parfait, c'est noté pour les 30/11 et 01/12. Je préviens les clients.\n\nSophie",
                     cc=(CLAIRE,))
    invoice = Mail("lemaire-facture-acompte", CLAIRE, (SOPHIE,), at("2026-11-18 10:30"),
                   "Facture d'acompte FA-2026-0112",
                   f"Bonjour Sophie,\n\nVoici la facture d'acompte correspondant au bon de commande du "
                   f"26/10/2026 ({format_euros(QUOTE_BY_NUMBER['2026-038'].amount_ht * 3 / 10)} HT).\n\n"
                   "Bien cordialement,",
                   attachments=(fake_pdf("Facture_FA-2026-0112.pdf", "Facture FA-2026-0112"),))
    return [first, call_back, quote, questions, answers, order, confirm, dates, dates_ok, invoice]


def rousseau() -> list[Mail]:
    """Cabinet Rousseau: the lawyer answers Claire's quote to Julien only (thread across two mailboxes)."""
    ask = Mail("rousseau-demande", NATHALIE, (CONTACT_BOX,), at("2026-10-19 09:31"),
               "Demande de devis – bibliothèque et rangements",
               "Bonjour,\n\nMaître Rousseau souhaiterait faire réaliser une bibliothèque sur mesure et des "
               "rangements pour son bureau (environ 5 mètres linéaires).\n\nPourriez-vous nous proposer un "
               "rendez-vous ?\n\nCordialement,")
    visit = reply("rousseau-rendez-vous", ask, CLAIRE, at("2026-10-19 14:55"),
                  "Bonjour Madame Girard,\n\nJulien Petit, notre chargé d'affaires, peut passer prendre les cotes "
                  "mercredi 21/10/2026 à 10h. Je lui laisse le soin de confirmer.\n\nBien cordialement,",
                  cc=(JULIEN,))
    quote = quote_mail(QUOTE_BY_NUMBER["2026-041"], "Maître,",
                       "Suite au relevé de cotes effectué par Julien Petit le 21/10/2026, voici notre proposition "
                       "pour la bibliothèque et les rangements de votre bureau.",
                       "Délai : 5 semaines à réception de la commande.")
    answer = reply("rousseau-devis-reponse", quote, ANTOINE, at("2026-10-29 18:22"),
                   "Bonjour Julien,\n\nJe réponds à vous directement puisque vous êtes venu sur place : le devis de "
                   "Mme Martin me convient. Pouvez-vous me confirmer que les montants verticaux seront bien en "
                   "chêne massif et non en plaqué ?\n\nSi oui, je vous renvoie le devis signé la semaine "
                   "prochaine.\n\nBien à vous,", to=(JULIEN,))
    julien = reply("rousseau-devis-precision", answer, JULIEN, at("2026-10-30 08:47"),
                   "Maître,\n\nJe vous confirme : montants en chêne massif de 28 mm, tablettes en plaqué chêne "
                   "pour éviter qu'elles ne se voilent.\n\nCordialement,")
    followup = Mail("rousseau-question-planning", CLAIRE, (NATHALIE,), at("2026-11-09 15:18"),
                    "Planning de fabrication – Cabinet Rousseau",
                    "Bonjour Madame Girard,\n\nJulien m'indique que Maître Rousseau est d'accord sur le devis "
                    "2026-041. Pour réserver un créneau de fabrication, pourriez-vous me dire quand nous "
                    "recevrons le devis signé ?\n\nBien cordialement,")
    absent = reply("rousseau-absence", followup, NATHALIE, at("2026-11-09 15:18"),
                   "Bonjour,\n\nJe suis absente du bureau jusqu'au lundi 16/11/2026 inclus. Pour toute urgence, "
                   "merci de contacter le standard du cabinet au 04 65 71 48 90.\n\nCordialement,\nNathalie Girard",
                   signed=False, quote_parent=False, extra_headers=AUTO_REPLY_HEADERS)
    absent.subject = "Absence du bureau : Planning de fabrication – Cabinet Rousseau"
    return [ask, visit, quote, answer, julien, followup, absent]


def comptoir() -> list[Mail]:
    """Le Comptoir des Halles (a Gmail address): quote, haggling, revised quote, agreement."""
    ask = Mail("comptoir-demande", THOMAS, (CONTACT_BOX,), at("2026-10-22 23:14"), "Banquette restaurant",
               "Bonsoir,\n\nJe cherche un menuisier pour une banquette d'environ 7 m le long du mur et l'habillage "
               "du bar en bois. On peut en parler ?\n\nThomas Bernard\nLe Comptoir des Halles")
    call = reply("comptoir-rappel", ask, CLAIRE, at("2026-10-23 09:02"),
                 "Bonjour Monsieur Bernard,\n\nAvec plaisir. Je vous propose d'en discuter autour d'un déjeuner au "
                 "restaurant mercredi 28/10/2026, je passerai avec les échantillons.\n\nBien cordialement,")
    quote_case = QUOTE_BY_NUMBER["2026-042"]
    quote = quote_mail(quote_case, "Bonjour Thomas,",
                       "Merci encore pour le déjeuner de mercredi. Comme convenu, voici notre chiffrage pour la "
                       "banquette (assise mousse haute densité, tissu enduit) et l'habillage du bar en chêne.",
                       "Délai : 3 semaines, pose possible un dimanche.")
    haggle = reply("comptoir-devis-reponse", quote, THOMAS, at("2026-11-03 10:12"),
                   "Bonjour Claire,\n\nMerci pour le devis. C'est un peu au-dessus de mon budget, on peut voir pour "
                   "descendre un peu ? Par exemple sans les coffres de rangement sous la banquette.\n\nThomas")
    revised = reply("comptoir-devis-revise", haggle, CLAIRE, at("2026-11-04 16:25"),
                    "Bonjour Thomas,\n\nVoici la version révisée sans les coffres sous la banquette.\n\n"
                    f"Montant total : {format_euros(quote_case.amount_ht - 440)} HT\n\nLe reste est inchangé.\n\n"
                    "Bien cordialement,",
                    attachments=(fake_pdf("Devis_2026-042_rev1.pdf", "Devis 2026-042 revision 1"),))
    revised.subject = "Devis n° 2026-042 rév. 1 – Banquette et habillage du bar"
    agree = reply("comptoir-accord", revised, THOMAS, at("2026-11-05 12:03"),
                  "Top, c'est bon pour moi. Je vous fais le virement de l'acompte cette semaine.\n\nThomas")
    return [ask, call, quote, haggle, revised, agree]


def creche() -> list[Mail]:
    """Crèche Les P'tits Loups: a role address (contact@) on Roundcube answers the next day."""
    quote = quote_mail(QUOTE_BY_NUMBER["2026-040"], "Bonjour Madame Morel,",
                       "Suite à votre demande téléphonique, voici notre proposition pour les casiers des enfants et "
                       "les meubles de rangement de la salle de motricité (angles arrondis, panneaux classés E1).",
                       "Délai : 4 semaines, pose pendant la fermeture de Noël si vous le souhaitez.")
    answer = reply("creche-devis-reponse", quote, CRECHE_BOX, at("2026-10-27 13:36"),
                   "Bonjour,\n\nMerci pour le devis. Le bureau de l'association se réunit le 12/11/2026 ; nous "
                   "vous donnerons notre réponse ensuite. Pouvez-vous nous envoyer votre attestation "
                   "d'assurance décennale pour le dossier de subvention de la CAF ?\n\nBien cordialement,")
    insurance = reply("creche-attestation", answer, CLAIRE, at("2026-10-27 17:02"),
                      "Bonjour,\n\nVoici notre attestation d'assurance décennale 2026.\n\nBien cordialement,",
                      attachments=(fake_pdf("Attestation_decennale_2026.pdf", "Attestation decennale 2026"),))
    return [quote, answer, insurance]


def acacias() -> list[Mail]:
    """SCI Les Acacias: a visit with an architect nobody has emailed, then a quote that gets no answer."""
    ask = Mail("acacias-demande", BERNARD, (CLAIRE,), at("2026-10-28 17:48"),
               "Habillage halls d'entrée – Résidence Les Acacias",
               "Madame,\n\nVos coordonnées m'ont été transmises par M. Faure. La SCI souhaite rénover l'habillage "
               "bois des deux halls d'entrée de la résidence (lambris, boîtes aux lettres, banc).\n\n"
               "Pouvez-vous passer faire un métré ?\n\nBien cordialement,")
    visit = reply("acacias-visite", ask, CLAIRE, at("2026-10-29 09:10"),
                  "Bonjour Monsieur Chevalier,\n\nVolontiers. Julien Petit, en copie, peut venir jeudi 05/11/2026 "
                  "à 14h.\n\nBien cordialement,", cc=(JULIEN,))
    ok = reply("acacias-visite-ok", visit, BERNARD, at("2026-10-30 08:55"),
               "Très bien pour jeudi 14h. L'architecte de la copropriété, M. Moreau, sera présent.\n\n"
               "Bien cordialement,", cc=(JULIEN,), to=(CLAIRE,))
    plans = Mail("acacias-plans", BERNARD, (JULIEN,), at("2026-11-06 10:14"), "Plans des halls A et B",
                 "Monsieur Petit,\n\nComme promis hier, voici les plans des deux halls transmis par M. Moreau.\n\n"
                 "Bien cordialement,", cc=(CLAIRE,),
                 attachments=(fake_pdf("Plans_halls_A_B.pdf", "Plans halls A et B"),))
    plans_ok = reply("acacias-plans-merci", plans, JULIEN, at("2026-11-06 11:02"),
                     "Monsieur Chevalier,\n\nBien reçu, merci. Claire vous enverra le chiffrage la semaine "
                     "prochaine.\n\nCordialement,", cc=(CLAIRE,))
    review = Mail("interne-relecture-acacias", CLAIRE, (JULIEN,), at("2026-11-12 09:05"), "Devis Acacias à relire",
                  "Julien,\n\nPeux-tu relire le devis des Acacias avant que je l'envoie ? J'ai compté 3 jours de "
                  "pose par hall.\n\nClaire", attachments=(fake_pdf("Devis_2026-044_brouillon.pdf", "Brouillon"),))
    review_ok = reply("interne-relecture-acacias-ok", review, JULIEN, at("2026-11-12 14:30"),
                      "C'est bon pour moi, ajoute juste la dépose de l'ancien lambris.\n\nJulien", signed=False)
    quote = quote_mail(QUOTE_BY_NUMBER["2026-044"], "Bonjour Monsieur Chevalier,",
                       "Suite à la visite de jeudi dernier avec Julien Petit et M. Moreau, voici notre proposition "
                       "pour les deux halls (lambris chêne, meuble boîtes aux lettres, banc).",
                       "Délai : 6 semaines après validation en assemblée de copropriété.")
    return [ask, visit, ok, plans, plans_ok, review, review_ok, quote]


def pharmacie() -> list[Mail]:
    """Pharmacie du Parc: the only answer to the quote is an out-of-office, which must not count as a reply."""
    ask = Mail("pharmacie-demande", ELODIE, (CONTACT_BOX,), at("2026-11-03 12:44"),
               "Demande de devis – mobilier d'officine",
               "Bonjour,\n\nNous reprenons la Pharmacie du Parc et souhaitons refaire le mobilier de l'espace de "
               "vente (comptoirs, linéaires, gondoles).\n\nPouvez-vous nous faire une proposition ?\n\n"
               "Cordialement,")
    visit = reply("pharmacie-rendez-vous", ask, CLAIRE, at("2026-11-04 09:26"),
                  "Bonjour Docteur,\n\nJulien Petit passera relever les cotes vendredi 06/11/2026 à 8h30, avant "
                  "l'ouverture. Je vous envoie le devis dans la foulée.\n\nBien cordialement,", cc=(JULIEN,))
    photos = Mail("pharmacie-photos", ELODIE, (JULIEN,), at("2026-11-09 13:05"), "Photos de l'espace de vente",
                  "Bonjour,\n\nComme convenu vendredi, voici des photos de l'espace de vente et de la réserve.\n\n"
                  "Cordialement,", attachments=(fake_jpeg("Officine_1.jpg"), fake_jpeg("Officine_2.jpg")))
    photos_ok = reply("pharmacie-photos-merci", photos, JULIEN, at("2026-11-09 15:40"),
                      "Bonjour Docteur,\n\nMerci, c'est très utile. Claire vous envoie la proposition cette "
                      "semaine.\n\nCordialement,", cc=(CLAIRE,))
    quote = quote_mail(QUOTE_BY_NUMBER["2026-045"], "Bonjour Docteur Garnier,",
                       "Suite au relevé de cotes de Julien Petit vendredi dernier, voici notre proposition pour "
                       "l'espace de vente (2 comptoirs, 14 m de linéaires, 3 gondoles).",
                       "Délai : 8 semaines, pose en deux nuits pour ne pas fermer l'officine.")
    away = reply("pharmacie-absence", quote, ELODIE, at("2026-11-13 11:20"),
                 "Bonjour,\n\nJe suis absente jusqu'au 27/11/2026 inclus, avec un accès limité à ma messagerie.\n"
                 "Pour toute question urgente, merci de contacter la pharmacie au 04 65 71 81 26.\n\n"
                 "Dr Élodie Garnier", signed=False, quote_parent=False, extra_headers=AUTO_REPLY_HEADERS)
    away.subject = "Réponse automatique : absence"
    return [ask, visit, photos, photos_ok, quote, away]


def faure() -> list[Mail]:
    """Faure Immobilier: plans, a forward to Julien, the quote, then silence."""
    ask = Mail("faure-demande", LAURENT, (CLAIRE,), at("2026-11-05 08:31"), "Réaménagement de l'agence",
               "Bonjour Claire,\n\nBernard Chevalier m'a dit que vous passiez chez lui. Nous aimerions "
               "réaménager l'agence : banque d'accueil et deux bureaux fermés. Êtes-vous disponibles avant la fin "
               "de l'année ?\n\nLaurent")
    answer = reply("faure-reponse", ask, CLAIRE, at("2026-11-05 10:17"),
                   "Bonjour Laurent,\n\nOui, nous pouvons tenir ce délai si la commande est passée fin novembre. "
                   "Avez-vous un plan de l'agence ?\n\nBien cordialement,")
    plans = reply("faure-plans", answer, LAURENT, at("2026-11-09 18:02"),
                  "Voici le plan avec les cotes, et l'implantation souhaitée.\n\nLaurent",
                  attachments=(fake_pdf("Plan_agence_rénovée.pdf", "Plan agence"),))
    visit = Mail("faure-visite", JULIEN, (LAURENT,), at("2026-11-10 18:20"), "Visite de l'agence",
                 "Bonjour Monsieur Faure,\n\nClaire m'a transmis votre plan. Puis-je passer vendredi 13/11/2026 à "
                 "9h pour vérifier deux cotes ?\n\nCordialement,", cc=(CLAIRE,))
    visit_ok = reply("faure-visite-ok", visit, LAURENT, at("2026-11-12 07:58"),
                     "Bonjour,\n\nOui, vendredi 9h c'est parfait.\n\nLaurent", cc=(CLAIRE,))
    forward = Mail("faure-plans-transfert", CLAIRE, (JULIEN,), at("2026-11-10 08:12"),
                   "Fwd: Réaménagement de l'agence",
                   "Julien, peux-tu regarder le plan de Faure Immobilier ? Je voudrais envoyer le chiffrage "
                   "lundi.\n\nMerci !", parent=plans, forward=True, attachments=plans.attachments)
    quote = quote_mail(QUOTE_BY_NUMBER["2026-046"], "Bonjour Laurent,",
                       "Voici notre proposition d'après votre plan et les remarques de Julien.",
                       "Délai : 5 semaines à réception de la commande.")
    return [ask, answer, plans, forward, visit, visit_ok, quote]


def vasseur() -> list[Mail]:
    """Optique Vasseur: an old client on orange.fr; the quote went out the day before the anchor."""
    quote = quote_mail(QUOTE_BY_NUMBER["2026-047"], "Bonjour Monsieur Vasseur,",
                       "Comme évoqué avec Julien jeudi, voici notre proposition pour remplacer les deux "
                       "présentoirs muraux du magasin.",
                       "Délai : 3 semaines.")
    return [quote]


def storylines() -> list[Mail]:
    return [*tilleuls(), *lemaire(), *rousseau(), *comptoir(), *creche(), *acacias(), *pharmacie(), *faure(),
            *vasseur()]
