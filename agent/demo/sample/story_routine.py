"""The everyday traffic around the storylines: site follow-ups, after-sales, purchasing, admin, colleagues.

It gives the timeline its realistic density. None of it touches the quotes the relance rule watches (SCI Les
Acacias, Pharmacie du Parc, Faure Immobilier, Optique Vasseur after its quote): those must stay unanswered.
"""

from __future__ import annotations

from agent.demo.sample.cast import (
    AUBERT,
    CHLOE,
    CLAIRE,
    COLIS_ROBOT,
    COMPTA_BOX,
    CONTACT_BOX,
    CRECHE_BOX,
    DR_LAMBERT,
    ISABELLE,
    JULIEN,
    MARC,
    MERCIER_COMPTA,
    NATHALIE,
    OLIVIER,
    PASCAL,
    PATRICK,
    QRA,
    RIVIERE,
    SEO_AGENCY,
    SOPHIE,
    THOMAS,
    TILLEULS_COMPTA,
    VALERIE,
)
from agent.demo.sample.messages import Mail
from agent.demo.sample.script import at, fake_jpeg, fake_pdf, reply


def tilleuls_site() -> list[Mail]:
    """Weekly reports, a housekeeping question and the hotel's accounts department."""
    report_20 = Mail("tilleuls-cr-20", JULIEN, (ISABELLE,), at("2026-10-20 12:10"),
                     "Compte rendu – point chantier du mardi",
                     "Bonjour Madame Fontaine,\n\nPoint du 20/10/2026 :\n- planning validé : 1er étage à partir du "
                     "09/11/2026, 2e étage à partir du 23/11/2026 ;\n- chambres libérées la veille au soir ;\n"
                     "- stockage des façades dans le local bagagerie.\n\nCordialement,", cc=(CLAIRE,))
    report_20_ok = reply("tilleuls-cr-20-ok", report_20, ISABELLE, at("2026-10-20 15:03"),
                         "Merci Monsieur Petit, c'est noté. Je transmets à notre gouvernante.\n\nCordialement,",
                         cc=(CLAIRE, CHLOE))
    housekeeping = Mail("tilleuls-gouvernante", CHLOE, (JULIEN,), at("2026-11-09 16:40"),
                        "Chambre 104 – prise derrière la tête de lit",
                        "Bonjour,\n\nDans la chambre 104, la prise derrière la nouvelle tête de lit n'est plus "
                        "accessible. Est-il possible de prévoir une découpe ?\n\nMerci,", cc=(ISABELLE,))
    housekeeping_ok = reply("tilleuls-gouvernante-ok", housekeeping, JULIEN, at("2026-11-09 17:58"),
                            "Bonjour Madame Noël,\n\nOui, nous ferons la découpe demain matin et poserons un cache "
                            "en chêne.\n\nCordialement,", cc=(ISABELLE,))
    photos = Mail("tilleuls-photos", JULIEN, (ISABELLE,), at("2026-11-13 17:22"), "Photos – chambres 101 à 106",
                  "Bonjour Madame Fontaine,\n\nVoici quelques photos des chambres terminées cette semaine.\n\n"
                  "Cordialement,", cc=(CLAIRE,),
                  attachments=(fake_jpeg("Chambre_101.jpg"), fake_jpeg("Chambre_103.jpg"),
                               fake_jpeg("Chambre_106.jpg")))
    photos_ok = reply("tilleuls-photos-ok", photos, ISABELLE, at("2026-11-16 08:34"),
                      "Bonjour,\n\nTrès réussi, la direction est ravie. Bravo à l'équipe !\n\nCordialement,",
                      cc=(CLAIRE,))
    report_18 = Mail("tilleuls-cr-18", JULIEN, (ISABELLE,), at("2026-11-18 16:45"),
                     "Compte rendu – point chantier du mercredi",
                     "Bonjour Madame Fontaine,\n\nPoint du 18/11/2026 (décalé au mercredi) :\n- 1er étage "
                     "terminé, réserves levées sauf chambre 105 (poignée) ;\n- 2e étage à partir du 23/11/2026 ;\n"
                     "- pas de point le 01/12/2026 (inventaire), reprise le 08/12/2026.\n\nCordialement,",
                     cc=(CLAIRE,))
    rib = Mail("tilleuls-compta-rib", TILLEULS_COMPTA, (CLAIRE,), at("2026-10-20 10:06"),
               "Demande de RIB – facture FA-2026-0107",
               "Bonjour,\n\nAfin de régler votre facture d'acompte FA-2026-0107, merci de nous transmettre un RIB "
               "au format PDF.\n\nCordialement,")
    rib_sent = reply("tilleuls-compta-rib-envoi", rib, CLAIRE, at("2026-10-20 11:15"),
                     "Bonjour,\n\nVoici notre RIB.\n\nBien cordialement,",
                     attachments=(fake_pdf("RIB_Atelier_Durand.pdf", "RIB Atelier Durand"),))
    paid = Mail("tilleuls-compta-virement", TILLEULS_COMPTA, (CLAIRE,), at("2026-10-23 14:48"),
                "Avis de virement – FA-2026-0107",
                "Bonjour,\n\nNous vous informons que le virement de 14 976,00 € TTC correspondant à la facture "
                "FA-2026-0107 a été émis ce jour.\n\nCordialement,")
    return [report_20, report_20_ok, housekeeping, housekeeping_ok, photos, photos_ok, report_18, rib, rib_sent,
            paid]


def lemaire_followup() -> list[Mail]:
    colour = Mail("lemaire-teinte", CLAIRE, (SOPHIE,), at("2026-10-29 10:02"), "Choix de la teinte du quartz",
                  "Bonjour Sophie,\n\nVoici les trois teintes de quartz disponibles dans le délai. Laquelle "
                  "préférez-vous ?\n\nBien cordialement,",
                  attachments=(fake_jpeg("Quartz_blanc_arctique.jpg"), fake_jpeg("Quartz_gris_perle.jpg"),
                               fake_jpeg("Quartz_noir_etoile.jpg")))
    colour_choice = reply("lemaire-teinte-choix", colour, SOPHIE, at("2026-10-29 13:41"),
                          "Le gris perle, sans hésiter !\n\nSophie")
    thanks = reply("lemaire-teinte-merci", colour_choice, CLAIRE, at("2026-10-29 14:05"),
                   "Parfait, je transmets à l'atelier.\n\nBien cordialement,", cc=(JULIEN,))
    return [colour, colour_choice, thanks]


def comptoir_followup() -> list[Mail]:
    deposit = Mail("comptoir-acompte", THOMAS, (CLAIRE,), at("2026-11-09 22:47"), "Acompte banquette",
                   "Bonsoir Claire,\n\nVirement de l'acompte fait ce soir. Vous pouvez lancer la fabrication.\n\n"
                   "Thomas")
    planning = reply("comptoir-planning", deposit, JULIEN, at("2026-11-10 09:15"),
                     "Bonjour Monsieur Bernard,\n\nClaire m'a transmis votre message, merci. Je vous propose la pose "
                     "le dimanche 29/11/2026 à partir de 8h.\n\nCordialement,", cc=(CLAIRE,))
    planning_ok = reply("comptoir-planning-ok", planning, THOMAS, at("2026-11-10 11:58"),
                        "Ça marche pour dimanche 8h, je serai là.\n\nThomas", cc=(CLAIRE,))
    return [deposit, planning, planning_ok]


def creche_followup() -> list[Mail]:
    decision = Mail("creche-decision", CRECHE_BOX, (CLAIRE,), at("2026-11-13 09:20"), "Décision du bureau",
                    "Bonjour,\n\nLe bureau de l'association a validé votre devis 2026-040 hier soir. Nous attendons "
                    "la notification de la subvention de la CAF pour vous envoyer le bon pour accord.\n\n"
                    "Bien cordialement,")
    decision_ok = reply("creche-decision-merci", decision, CLAIRE, at("2026-11-13 10:02"),
                        "Bonjour,\n\nMerci pour cette bonne nouvelle ! Nous réservons un créneau de pose pendant la "
                        "fermeture de Noël.\n\nBien cordialement,")
    return [decision, decision_ok]


def rousseau_followup() -> list[Mail]:
    signed = Mail("rousseau-devis-signe", NATHALIE, (CLAIRE,), at("2026-11-17 11:30"), "Devis signé – Maître Rousseau",
                  "Bonjour Madame Martin,\n\nDe retour au cabinet, je vous transmets le devis 2026-041 signé par "
                  "Maître Rousseau.\n\nCordialement,",
                  attachments=(fake_pdf("Devis_2026-041_signe.pdf", "Devis 2026-041 signe"),))
    thanks = reply("rousseau-devis-signe-merci", signed, CLAIRE, at("2026-11-17 12:04"),
                   "Bonjour Madame Girard,\n\nBien reçu, merci. Julien vous proposera une date de pose début "
                   "janvier.\n\nBien cordialement,", cc=(JULIEN,))
    return [signed, thanks]


def after_sales() -> list[Mail]:
    """An old client's small repairs, and Julien's visit to Optique Vasseur before the quote."""
    drawer = Mail("lambert-tiroir", DR_LAMBERT, (CLAIRE,), at("2026-10-15 12:31"), "Tiroir qui frotte – salle 2",
                  "Bonjour,\n\nUn tiroir du meuble de la salle de soins n° 2 frotte et se ferme mal. Pourriez-vous "
                  "passer le régler ?\n\nCabinet du Dr Lambert")
    drawer_visit = reply("lambert-tiroir-visite", drawer, JULIEN, at("2026-10-15 14:20"),
                         "Bonjour,\n\nJe passerai vendredi 16/10/2026 à 12h30, pendant la pause de midi.\n\n"
                         "Cordialement,", cc=(CLAIRE,))
    drawer_thanks = reply("lambert-tiroir-merci", drawer_visit, DR_LAMBERT, at("2026-10-16 18:05"),
                          "Merci, le tiroir fonctionne parfaitement.\n\nCabinet du Dr Lambert")
    overdue = Mail("lambert-relance-facture", CLAIRE, (DR_LAMBERT,), at("2026-11-02 09:40"),
                   "Facture FA-2026-0098 – échéance dépassée",
                   "Bonjour,\n\nSauf erreur de notre part, la facture FA-2026-0098 du 01/10/2026 (intervention "
                   "SAV, 186,00 € TTC) reste à régler. Pourriez-vous vérifier ?\n\nBien cordialement,",
                   attachments=(fake_pdf("Facture_FA-2026-0098.pdf", "Facture FA-2026-0098"),))
    overdue_paid = reply("lambert-relance-payee", overdue, DR_LAMBERT, at("2026-11-02 13:15"),
                         "Bonjour,\n\nToutes nos excuses, c'est réglé par virement ce jour.\n\nCabinet du Dr Lambert")
    hinge_done = Mail("vasseur-charniere-faite", JULIEN, (OLIVIER,), at("2026-11-12 11:48"),
                      "Charnière remplacée",
                      "Bonjour Monsieur Vasseur,\n\nLa charnière est remplacée et la porte réglée. Claire vous "
                      "enverra une proposition pour les présentoirs.\n\nCordialement,", cc=(CLAIRE,))
    hinge_thanks = reply("vasseur-charniere-merci", hinge_done, OLIVIER, at("2026-11-12 18:20"),
                         "Merci beaucoup, tout fonctionne.\n\nO. Vasseur")
    return [drawer, drawer_visit, drawer_thanks, overdue, overdue_paid, hinge_done, hinge_thanks]


def purchasing() -> list[Mail]:
    walnut = Mail("bois-noyer", JULIEN, (PATRICK,), at("2026-11-03 08:20"), "Disponibilité noyer massif",
                  "Bonjour Patrick,\n\nAvez-vous du noyer massif en 27 mm, environ 1,5 m³ ? C'est pour un "
                  "chiffrage (cabinet d'avocats).\n\nCordialement,")
    walnut_answer = reply("bois-noyer-reponse", walnut, PATRICK, at("2026-11-03 11:02"),
                          "Bonjour Julien,\n\nOui, 2 m³ en stock au dépôt de Rillieux, 2 480 € HT le m³.\n\n"
                          "Cordialement,")
    remainder = Mail("bois-reliquat", PATRICK, (JULIEN,), at("2026-10-28 07:55"),
                     "Reliquat de commande C-2026-5512",
                     "Bonjour Julien,\n\nLes plateaux chêne massif de la commande C-2026-5512 seront livrés en "
                     "reliquat le 03/11/2026 ; le reste part ce matin.\n\nCordialement,")
    remainder_ok = reply("bois-reliquat-ok", remainder, JULIEN, at("2026-10-28 08:16"),
                         "Bonjour Patrick,\n\nD'accord, merci de prévenir.\n\nCordialement,")
    prices = Mail("bois-tarifs-2027", PATRICK, (JULIEN, CLAIRE), at("2026-11-16 15:00"), "Tarifs 2027",
                  "Bonjour,\n\nVous trouverez ci-joint nos tarifs 2027, applicables au 04/01/2027 (hausse moyenne de "
                  "3,5 % sur les panneaux).\n\nCordialement,",
                  attachments=(fake_pdf("Tarifs_BNR_2027.pdf", "Tarifs 2027"),))
    prices_note = Mail("interne-tarifs-2027", CLAIRE, (JULIEN,), at("2026-11-16 16:12"),
                       "Re: Tarifs 2027", "Julien, il faudra mettre à jour la base de chiffrage avant les devis de "
                       "janvier. Je m'en occupe la semaine prochaine ?\n\nClaire", parent=prices)
    prices_note_ok = reply("interne-tarifs-2027-ok", prices_note, JULIEN, at("2026-11-16 16:30"),
                           "Oui merci, je te passe les coefficients.\n\nJulien", signed=False)
    late = Mail("qra-retard", QRA, (JULIEN,), at("2026-11-04 08:10"), "Retard de livraison – charnières",
                "Bonjour,\n\nNotre fournisseur nous livre les charnières avec une semaine de retard. Livraison chez "
                "vous le 10/11/2026. Les coulisses partent aujourd'hui.\n\nCordialement,")
    late_ok = reply("qra-retard-ok", late, JULIEN, at("2026-11-04 08:45"),
                    "Bonjour,\n\nEntendu. Merci de bien livrer avant 16h.\n\nCordialement,")
    parcel = Mail("colis-suivi", COLIS_ROBOT, (JULIEN,), at("2026-11-10 07:02"), "Votre livraison arrive aujourd'hui",
                  "Bonjour,\n\nVotre livraison n° TR-448213 (expéditeur : Quincaillerie Rhône-Alpes Pro) sera livrée "
                  "aujourd'hui entre 10h et 12h.\n\nCeci est un message automatique.", signed=False,
                  extra_headers=(("Auto-Submitted", "auto-generated"), ("Precedence", "bulk")))
    mairie_transport = Mail("riviere-devis-transport", JULIEN, (RIVIERE,), at("2026-11-18 10:50"),
                            "Demande de prix – transport Saint-Clément",
                            "Bonjour Karim,\n\nPourriez-vous me faire un prix pour un transport atelier → "
                            "Saint-Clément, 12 m de rayonnages, début février ?\n\nCordialement,")
    mairie_transport_answer = reply("riviere-devis-transport-reponse", mairie_transport, RIVIERE,
                                    at("2026-11-19 09:35"),
                                    "Bonjour Julien,\n\n380 € HT avec hayon, deux livreurs. Prix valable jusqu'au "
                                    "31/03/2027.\n\nCordialement,")
    return [walnut, walnut_answer, remainder, remainder_ok, prices, prices_note, prices_note_ok, late, late_ok,
            parcel, mairie_transport, mairie_transport_answer]


def admin() -> list[Mail]:
    """Insurance, the accountant's questions, a cold pitch, the Mairie's technical questions."""
    insurance = Mail("aubert-decennale", AUBERT, (JULIEN,), at("2026-10-30 11:20"),
                     "Renouvellement assurance décennale 2027",
                     "Bonjour Monsieur Petit,\n\nVotre contrat décennale arrive à échéance le 31/12/2026. Pour le "
                     "renouvellement, merci de me transmettre votre chiffre d'affaires 2026 estimé.\n\n"
                     "Bien cordialement,", cc=(MARC,))
    insurance_answer = reply("aubert-decennale-reponse", insurance, JULIEN, at("2026-11-02 17:05"),
                             "Bonjour Monsieur Aubert,\n\nChiffre d'affaires estimé : 1,18 M€ HT. Marc Durand "
                             "vous rappellera pour les garanties.\n\nCordialement,", cc=(MARC,))
    expenses = Mail("mercier-notes-de-frais", MERCIER_COMPTA, (COMPTA_BOX,), at("2026-10-27 10:45"),
                    "Question – notes de frais d'octobre",
                    "Bonjour,\n\nDeux tickets de carburant du 14/10/2026 n'ont pas de justificatif de déplacement. "
                    "S'agit-il du chantier de l'Hôtel Les Tilleuls ?\n\nCordialement,")
    expenses_answer = reply("mercier-notes-de-frais-reponse", expenses, JULIEN, at("2026-10-27 12:20"),
                            "Bonjour,\n\nOui, livraison et relevé de cotes ce jour-là.\n\nCordialement,")
    urssaf = Mail("mercier-attestation", JULIEN, (VALERIE,), at("2026-11-05 14:30"), "Attestation de vigilance URSSAF",
                  "Bonjour Valérie,\n\nLa mairie de Saint-Clément va nous demander une attestation de vigilance "
                  "URSSAF pour sa consultation. Pouvez-vous la télécharger pour nous ?\n\nCordialement,")
    urssaf_sent = reply("mercier-attestation-envoi", urssaf, VALERIE, at("2026-11-05 16:58"),
                        "Bonjour Julien,\n\nLa voici, valable six mois.\n\nBien cordialement,",
                        attachments=(fake_pdf("Attestation_vigilance_URSSAF.pdf", "Attestation de vigilance"),))
    pitch = Mail("seo-prospection", SEO_AGENCY, (CONTACT_BOX,), at("2026-10-21 10:12"),
                 "Votre site atelier-durand.fr en 1re page de Google ?",
                 "Bonjour,\n\nJ'ai remarqué que votre site n'apparaît pas sur « menuisier agenceur Lyon ». Nous "
                 "accompagnons plus de 300 artisans : auriez-vous 15 minutes cette semaine ?\n\nKevin")
    pitch_again = reply("seo-relance", pitch, SEO_AGENCY, at("2026-11-04 10:12"),
                        "Bonjour,\n\nJe me permets de revenir vers vous concernant mon précédent message.\n\nKevin",
                        to=(CONTACT_BOX,))
    questions = Mail("mairie-questions", JULIEN, (PASCAL,), at("2026-11-09 14:10"),
                     "Consultation médiathèque – questions techniques",
                     "Monsieur Lefèvre,\n\nQuelques questions avant notre réunion :\n- les rayonnages doivent-ils "
                     "être classés M1 / Euroclasse B ?\n- la banque d'accueil doit-elle être accessible PMR sur toute "
                     "sa longueur ?\n\nCordialement,", cc=(CLAIRE,))
    answers = reply("mairie-questions-reponse", questions, PASCAL, at("2026-11-10 08:48"),
                    "Monsieur Petit,\n\n1. Oui, Euroclasse B-s2,d0 exigée.\n2. Une tablette PMR de 90 cm suffit.\n\n"
                    "Cordialement,", cc=(CLAIRE,))
    return [insurance, insurance_answer, expenses, expenses_answer, urssaf, urssaf_sent, pitch, pitch_again,
            questions, answers]


def colleagues() -> list[Mail]:
    van = Mail("interne-fourgon", JULIEN, (CLAIRE, MARC), at("2026-10-16 17:10"), "Fourgon – contrôle technique",
               "Le fourgon passe au contrôle technique mardi 20/10/2026 matin, il sera indisponible jusqu'à midi.\n\n"
               "Julien", signed=False)
    van_ok = reply("interne-fourgon-ok", van, CLAIRE, at("2026-10-16 17:32"),
                   "Ok, je prendrai ma voiture pour le rendez-vous de mardi.\n\nClaire", signed=False)
    intern = Mail("interne-stagiaire", MARC, (CLAIRE, JULIEN), at("2026-10-30 12:05"), "Stagiaire BTS agencement",
                  "Bonjour,\n\nNous accueillons Léa, stagiaire en BTS agencement, du 16/11/2026 au 18/12/2026. "
                  "Julien, tu veux bien être son tuteur ?\n\nMarc")
    intern_ok = reply("interne-stagiaire-ok", intern, JULIEN, at("2026-10-30 13:40"),
                      "Avec plaisir, je la prendrai sur le chantier des Tilleuls.\n\nJulien", signed=False,
                      cc=(CLAIRE,))
    friday = Mail("interne-absence-vendredi", JULIEN, (CLAIRE,), at("2026-11-19 08:02"), "Absent vendredi après-midi",
                  "Claire, je serai absent vendredi après-midi (rendez-vous médical). Joignable sur le portable si "
                  "urgence.\n\nJulien", signed=False)
    return [van, van_ok, intern, intern_ok, friday]


def storylines() -> list[Mail]:
    return [*tilleuls_site(), *lemaire_followup(), *comptoir_followup(), *creche_followup(), *rousseau_followup(),
            *after_sales(), *purchasing(), *admin(), *colleagues()]
