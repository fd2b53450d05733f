"""The people and organisations of the demo sample: Atelier Durand, its two colleagues, clients, suppliers.

Everything here is fictional. Domains look real but are never contacted; phone numbers come from the ranges
ARCEP reserves for fiction (04 65 71 xx xx, 06 39 98 xx xx) or are written in the usual French forms.
"""

from __future__ import annotations

from dataclasses import dataclass

OWN_DOMAIN = "atelier-durand.fr"


@dataclass(frozen=True, slots=True)
class Company:
    key: str
    name: str
    domain: str
    kind: str  # "interne" | "client" | "prospect" | "fournisseur" | "comptable" | "media"


@dataclass(frozen=True, slots=True)
class Person:
    """One mailbox as it appears in headers, and how its owner's mail program writes messages."""

    key: str
    first_name: str
    last_name: str
    address: str
    company: Company | None
    function: str = ""
    phone: str = ""
    # "thunderbird" | "outlook" (Microsoft 365) | "outlook-desktop" | "exchange" (on premises) | "gmail" | "apple"
    # | "orange" (webmail) | "roundcube" | "robot"
    client: str = "thunderbird"
    signature: str = ""

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def style(self) -> str:
        """How replies are written: every Outlook flavour quotes the same way."""
        return "outlook" if self.client in ("outlook", "outlook-desktop", "exchange") else self.client

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]

    @property
    def is_internal(self) -> bool:
        return self.domain == OWN_DOMAIN


# ---------------------------------------------------------------------------------------------- companies

ATELIER = Company("atelier", "Atelier Durand SARL", OWN_DOMAIN, "interne")
TILLEULS = Company("tilleuls", "Hôtel Les Tilleuls", "hotel-les-tilleuls.fr", "client")
LEMAIRE = Company("lemaire", "Boulangerie Lemaire", "boulangerie-lemaire.fr", "client")
ROUSSEAU = Company("rousseau", "Cabinet Rousseau Avocats", "cabinet-rousseau-avocats.fr", "prospect")
COMPTOIR = Company("comptoir", "Le Comptoir des Halles", "comptoir-des-halles.fr", "prospect")
CRECHE = Company("creche", "Crèche associative Les P'tits Loups", "creche-lesptitsloups.fr", "prospect")
ACACIAS = Company("acacias", "SCI Les Acacias", "sci-les-acacias.fr", "prospect")
PHARMACIE = Company("pharmacie", "Pharmacie du Parc", "pharmacie-du-parc.fr", "prospect")
FAURE = Company("faure", "Faure Immobilier", "faure-immobilier.fr", "prospect")
VASSEUR = Company("vasseur", "Optique Vasseur", "optique-vasseur.fr", "client")
MAIRIE = Company("mairie", "Mairie de Saint-Clément", "mairie-saint-clement.fr", "prospect")
SARMENT = Company("sarment", "Cave Le Sarment", "cave-lesarment.fr", "prospect")
VETO = Company("veto", "Clinique vétérinaire des Monts d'Or", "clinique-veto-montsdor.fr", "prospect")
DENTAIRE = Company("dentaire", "Cabinet dentaire Lambert", "cabinet-dentaire-lambert.fr", "client")
MERCIER = Company("mercier", "Mercier Expertise Comptable", "mercier-expertise.fr", "comptable")
BOIS = Company("bois", "Bois & Négoce du Rhône", "bois-negoce-rhone.fr", "fournisseur")
QUINCAILLERIE = Company("qra", "Quincaillerie Rhône-Alpes Pro", "qra-pro.fr", "fournisseur")
TRANSPORTS = Company("riviere", "Transports Rivière", "transports-riviere.fr", "fournisseur")
NORDIC = Company("nordic", "Nordic Hinges AB", "nordichinges.se", "fournisseur")
LETTRE = Company("lettre", "La Lettre de l'Agencement", "lettre-agencement.fr", "media")
ARTISANS = Company("artisans", "Artisans du Rhône", "artisans-du-rhone.fr", "media")
BANQUE = Company("banque", "Crédit Rhodanien", "credit-rhodanien.fr", "media")

# ---------------------------------------------------------------------------------------------- our people

_ATELIER_FOOTER = "Atelier Durand SARL – Menuiserie & Agencement sur mesure\n12 rue des Artisans – 69009 Lyon"

CLAIRE = Person(
    "claire", "Claire", "Martin", "claire.martin@atelier-durand.fr", ATELIER, "Commerciale", "06 39 98 12 34",
    "thunderbird",
    "Claire Martin\nCommerciale\n" + _ATELIER_FOOTER
    + "\nTél. 04 65 71 10 20 – Port. 06 39 98 12 34\nwww.atelier-durand.fr",
)
JULIEN = Person(
    "julien", "Julien", "Petit", "julien.petit@atelier-durand.fr", ATELIER, "Chargé d'affaires", "06 39 98 22 41",
    "outlook-desktop",
    "Julien Petit\nChargé d'affaires\nATELIER DURAND – Menuiserie & Agencement\n12 rue des Artisans – 69009 Lyon\n"
    "04 65 71 10 20 – 06 39 98 22 41",
)
MARC = Person(
    "marc", "Marc", "Durand", "marc.durand@atelier-durand.fr", ATELIER, "Gérant", "06 39 98 00 17", "thunderbird",
    "Marc Durand\nGérant – Atelier Durand SARL",
)
CONTACT_BOX = Person("contact", "Atelier Durand", "", "contact@atelier-durand.fr", ATELIER, client="robot")
COMPTA_BOX = Person("compta", "Atelier Durand – Comptabilité", "", "compta@atelier-durand.fr", ATELIER, client="robot")
FORM_ROBOT = Person("formulaire", "Site atelier-durand.fr", "", "formulaire@atelier-durand.fr", ATELIER, client="robot")
MAILER_DAEMON = Person("daemon", "Mail Delivery System", "", "MAILER-DAEMON@mail.atelier-durand.fr", ATELIER,
                       client="robot")

# Which synced mailbox receives mail sent to an address of our domain.
MAILBOX_OF = {
    CLAIRE.address: "claire",
    JULIEN.address: "julien",
    CONTACT_BOX.address: "claire",  # the website's address: Claire reads it
    "devis@atelier-durand.fr": "claire",
    COMPTA_BOX.address: "julien",  # Julien handles purchases and the accountant
}

# ---------------------------------------------------------------------------------------------- their people

ISABELLE = Person("isabelle", "Isabelle", "Fontaine", "i.fontaine@hotel-les-tilleuls.fr", TILLEULS, "Directrice",
                  "04 65 71 33 08", "outlook",
                  "Isabelle Fontaine\nDirectrice\nHôtel Les Tilleuls ***\n4 place des Tilleuls – 69005 Lyon\n"
                  "Tél. : +33 4 65 71 33 08")
TILLEULS_COMPTA = Person("tilleuls_compta", "Service", "comptabilité", "compta@hotel-les-tilleuls.fr", TILLEULS,
                         "Comptabilité", "", "outlook", "Service comptabilité\nHôtel Les Tilleuls")
SOPHIE = Person("sophie", "Sophie", "Lemaire", "sophie.lemaire@boulangerie-lemaire.fr", LEMAIRE, "Gérante",
                "04 65 71 20 14", "apple", "Sophie Lemaire\nBoulangerie Lemaire – 18 rue Saint-Georges, 69005 Lyon")
SOPHIE_HOME = Person("sophie_home", "Sophie", "LEMAIRE", "s.lemaire@orange.fr", None, "", "+33 6 39 98 41 27",
                     "orange", "Sophie")
ANTOINE = Person("antoine", "Antoine", "Rousseau", "a.rousseau@cabinet-rousseau-avocats.fr", ROUSSEAU,
                 "Avocat associé", "04 65 71 48 90", "outlook",
                 "Maître Antoine Rousseau\nAvocat associé\nCabinet Rousseau Avocats\n"
                 "27 quai Saint-Vincent – 69001 Lyon\n"
                 "Tél. 04 65 71 48 90")
NATHALIE = Person("nathalie", "Nathalie", "Girard", "secretariat@cabinet-rousseau-avocats.fr", ROUSSEAU,
                  "Assistante", "04 65 71 48 91", "outlook",
                  "Nathalie Girard\nSecrétariat – Cabinet Rousseau Avocats\nTél. 04 65 71 48 91")
THOMAS = Person("thomas", "Thomas", "Bernard", "thomas.bernard.cdh@gmail.com", COMPTOIR, "Chef-gérant",
                "06 39 98 57 02", "gmail", "Thomas Bernard\nLe Comptoir des Halles\n06 39 98 57 02")
CRECHE_BOX = Person("creche_box", "Crèche Les P'tits", "Loups", "contact@creche-lesptitsloups.fr", CRECHE, "",
                    "04 65 71 62 40", "roundcube",
                    "Aurélie Morel, directrice\nCrèche associative Les P'tits Loups\n04 65 71 62 40")
BERNARD = Person("bernard", "Bernard", "Chevalier", "b.chevalier@sci-les-acacias.fr", ACACIAS, "Gérant",
                 "06 39 98 73 15", "outlook", "Bernard Chevalier\nGérant – SCI Les Acacias\n06 39 98 73 15")
MOREAU = Person("moreau", "Laurent", "Moreau", "l.moreau@moreau-architecte.fr", None, "Architecte", "", "outlook")
ELODIE = Person("elodie", "Élodie", "Garnier", "e.garnier@pharmacie-du-parc.fr", PHARMACIE, "Pharmacienne titulaire",
                "04 65 71 81 26", "outlook",
                "Dr Élodie Garnier\nPharmacienne titulaire\nPharmacie du Parc – 3 avenue du Parc, 69006 Lyon")
LAURENT = Person("laurent", "Laurent", "Faure", "l.faure@faure-immobilier.fr", FAURE, "Directeur d'agence",
                 "+33 4 65 71 90 12", "apple",
                 "Laurent Faure\nFaure Immobilier – Transactions & Gestion\n04 65 71 90 12")
OLIVIER = Person("olivier", "Olivier", "Vasseur", "o.vasseur@orange.fr", VASSEUR, "Opticien", "06.39.98.64.50",
                 "orange", "O. Vasseur\nOptique Vasseur")
PASCAL = Person("pascal", "Pascal", "Lefèvre", "p.lefevre@mairie-saint-clement.fr", MAIRIE,
                "Directeur des services techniques", "04 65 71 05 60", "exchange",
                "Pascal Lefèvre\nDirecteur des services techniques\nMairie de Saint-Clément\nTél. : 04 65 71 05 60")
ELUE = Person("elue", "Martine", "Caron", "m.caron@mairie-saint-clement.fr", MAIRIE, "Adjointe à la culture", "",
              "exchange")
GERARD = Person("gerard", "Gérard", "Perrin", "gerard.perrin@wanadoo.fr", SARMENT, "Caviste", "06 39 98 90 33",
                "orange", "Gérard Perrin\nCave Le Sarment")
CAMILLE = Person("camille", "Camille", "Roux", "camille.roux@clinique-veto-montsdor.fr", VETO, "Vétérinaire",
                 "04 65 71 77 02", "gmail")
DR_LAMBERT = Person("lambert", "Hélène", "Lambert", "secretariat@cabinet-dentaire-lambert.fr", DENTAIRE,
                    "Chirurgien-dentiste", "04 65 71 55 19", "thunderbird",
                    "Cabinet dentaire du Dr Hélène Lambert\n04 65 71 55 19")
VALERIE = Person("valerie", "Valérie", "Mercier", "v.mercier@mercier-expertise.fr", MERCIER, "Expert-comptable",
                 "04 65 71 39 84", "outlook",
                 "Valérie Mercier\nExpert-comptable associée\nMercier Expertise Comptable\n04 65 71 39 84")
MERCIER_COMPTA = Person("mercier_compta", "Cabinet Mercier", "– Comptabilité", "compta@mercier-expertise.fr",
                        MERCIER, "", "", "outlook", "Pôle comptabilité\nMercier Expertise Comptable")
PATRICK = Person("patrick", "Patrick", "Gauthier", "p.gauthier@bois-negoce-rhone.fr", BOIS, "Commercial sédentaire",
                 "04 65 71 24 60", "outlook",
                 "Patrick Gauthier\nCommercial sédentaire\nBois & Négoce du Rhône – ZI Nord, 69140 Rillieux-la-Pape\n"
                 "Tél. 04 65 71 24 60")
BOIS_FACTURES = Person("bois_factures", "Bois & Négoce du Rhône", "– Facturation", "factures@bois-negoce-rhone.fr",
                       BOIS, "", "", "robot")
BOIS_PROMO = Person("bois_promo", "Bois & Négoce du Rhône", "", "promo@info.bois-negoce-rhone.fr", BOIS, "", "",
                    "robot")
QRA = Person("qra", "Service", "commandes", "commandes@qra-pro.fr", QUINCAILLERIE, "", "04 65 71 68 00", "outlook",
             "Service commandes\nQuincaillerie Rhône-Alpes Pro\n04 65 71 68 00")
RIVIERE = Person("riviere", "Karim", "Benali", "exploitation@transports-riviere.fr", TRANSPORTS, "Exploitation",
                 "04 65 71 93 70", "outlook", "Karim Benali\nExploitation – Transports Rivière\n04 65 71 93 70")
ERIK = Person("erik", "Erik", "Lindqvist", "erik.lindqvist@nordichinges.se", NORDIC, "Export Sales Manager", "",
              "outlook", "Erik Lindqvist\nExport Sales Manager\nNordic Hinges AB – Jönköping, Sweden")
LETTRE_ROBOT = Person("lettre", "La Lettre de l'Agencement", "", "lettre@news.lettre-agencement.fr", LETTRE,
                      client="robot")
ARTISANS_ROBOT = Person("artisans", "Artisans du Rhône", "", "infos@artisans-du-rhone.fr", ARTISANS, client="robot")
BANQUE_ROBOT = Person("banque", "Crédit Rhodanien", "", "ne-pas-repondre@credit-rhodanien.fr", BANQUE,
                      client="robot")
CHLOE = Person("chloe", "Chloé", "Noël", "c.noel@hotel-les-tilleuls.fr", TILLEULS, "Gouvernante générale",
               "04 65 71 33 00", "outlook", "Chloé Noël\nGouvernante générale – Hôtel Les Tilleuls")
AUBERT = Person("aubert", "François", "Aubert", "f.aubert@aubert-assurances.fr", None, "Courtier", "04 65 71 12 88",
                "thunderbird", "François Aubert\nCabinet Aubert Assurances – courtier IARD\n04 65 71 12 88")
SEO_AGENCY = Person("seo", "Kevin", "Marchand", "kevin@visibilite-artisans.fr", None, "Consultant", "", "gmail",
                    "Kevin Marchand\nVisibilité Artisans – le référencement des pros")
COLIS_ROBOT = Person("colis", "Suivi de vos envois", "", "suivi@notifications.transports-riviere.fr", TRANSPORTS,
                     client="robot")
