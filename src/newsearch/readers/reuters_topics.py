"""Reuters-21578 topic codes and the collection's own names for them.

Reuters-21578 tags each story with TOPICS codes (``acq``, ``gnp``, ``money-fx``). The names
come from the collection's ``cat-descriptions_120396.txt`` ("Some notes on the Reuters
Categories", D. D. Lewis, 1996): its list of the 135 subject codes, of which the stories use
120. That list names the economic, currency, corporate and energy codes ("Mergers/Acquisitions
(ACQ)"); the 78 commodity codes are plain words there (``COFFEE``, ``CASTOR-OIL``) and are
written out as words here, abbreviations expanded (``ALUM`` aluminium, ``F-CATTLE`` feeder
cattle, ``LIN-OIL`` linseed oil, ``VEG-OIL`` vegetable oil). One spelling is corrected
("Ringitt" to "Ringgit").

:func:`topic_section` is what the reader stores as the section: the name, followed by the code
in capitals when the name does not already say it (``Mergers/Acquisitions (ACQ)``, but
``Coffee``, ``Castor Oil``), so a reader sees the name and ``section:acq`` still finds it (see
:func:`newsearch.article.section_key`).
"""

from __future__ import annotations

import re

__all__ = ["TOPIC_NAMES", "topic_section"]

TOPIC_NAMES: dict[str, str] = {
    # Subject Codes
    "money-fx": "Money/Foreign Exchange",
    "ship": "Shipping",
    "interest": "Interest Rates",
    # Economic Indicator Codes
    "bop": "Balance of Payments",
    "trade": "Trade",
    "cpi": "Consumer Price Index",
    "wpi": "Wholesale Price Index",
    "jobs": "Unemployment",
    "ipi": "Industrial Production Index",
    "cpu": "Capacity Utilisation",
    "gnp": "Gross National/Domestic Product",
    "money-supply": "Money Supply",
    "reserves": "Reserves",
    "lei": "Leading Economic Indicators",
    "housing": "Housing Starts",
    "income": "Personal Income",
    "inventories": "Inventories",
    "instal-debt": "Instalment Debt/Consumer Credit",
    "retail": "Retail Sales",
    # Currency Codes
    "dlr": "U.S. Dollar",
    "austdlr": "Australian Dollar",
    "hk": "Hong Kong Dollar",
    "singdlr": "Singapore Dollar",
    "nzdlr": "New Zealand Dollar",
    "can": "Canadian Dollar",
    "stg": "Sterling",
    "dmk": "D-Mark",
    "yen": "Japanese Yen",
    "sfr": "Swiss Franc",
    "ffr": "French Franc",
    "bfr": "Belgian Franc",
    "dfl": "Netherlands Guilder/Florin",
    "lit": "Italian Lira",
    "dkr": "Danish Krone/Crown",
    "nkr": "Norwegian Krone/Crown",
    "skr": "Swedish Krona/Crown",
    "mexpeso": "Mexican Peso",
    "cruzado": "Brazilian Cruzado",
    "austral": "Argentine Austral",
    "saudriyal": "Saudi Arabian Riyal",
    "rand": "South African Rand",
    "rupiah": "Indonesian Rupiah",
    "ringgit": "Malaysian Ringgit",
    "escudo": "Portuguese Escudo",
    "peseta": "Spanish Peseta",
    "drachma": "Greek Drachma",
    # Corporate Codes
    "acq": "Mergers/Acquisitions",
    "earn": "Earnings and Earnings Forecasts",
    # Commodity Codes
    "alum": "Aluminium",
    "barley": "Barley",
    "carcass": "Carcass",
    "castor-meal": "Castor Meal",
    "castor-oil": "Castor Oil",
    "castorseed": "Castor Seed",
    "citruspulp": "Citrus Pulp",
    "cocoa": "Cocoa",
    "coconut-oil": "Coconut Oil",
    "coconut": "Coconut",
    "coffee": "Coffee",
    "copper": "Copper",
    "copra-cake": "Copra Cake",
    "corn-oil": "Corn Oil",
    "corn": "Corn",
    "cornglutenfeed": "Corn Gluten Feed",
    "cotton": "Cotton",
    "cotton-meal": "Cotton Meal",
    "cotton-oil": "Cotton Oil",
    "cottonseed": "Cottonseed",
    "f-cattle": "Feeder Cattle",
    "fishmeal": "Fishmeal",
    "flaxseed": "Flaxseed",
    "gold": "Gold",
    "grain": "Grain",
    "groundnut": "Groundnut",
    "groundnut-meal": "Groundnut Meal",
    "groundnut-oil": "Groundnut Oil",
    "iron-steel": "Iron and Steel",
    "lead": "Lead",
    "lin-meal": "Linseed Meal",
    "lin-oil": "Linseed Oil",
    "linseed": "Linseed",
    "livestock": "Livestock",
    "l-cattle": "Live Cattle",
    "hog": "Hog",
    "lumber": "Lumber",
    "lupin": "Lupin",
    "meal-feed": "Meal and Feed",
    "nickel": "Nickel",
    "oat": "Oat",
    "oilseed": "Oilseed",
    "orange": "Orange",
    "palladium": "Palladium",
    "palm-meal": "Palm Meal",
    "palm-oil": "Palm Oil",
    "palmkernel": "Palm Kernel",
    "platinum": "Platinum",
    "plywood": "Plywood",
    "pork-belly": "Pork Belly",
    "potato": "Potato",
    "rape-meal": "Rapeseed Meal",
    "rape-oil": "Rapeseed Oil",
    "rapeseed": "Rapeseed",
    "red-bean": "Red Bean",
    "rice": "Rice",
    "rubber": "Rubber",
    "rye": "Rye",
    "silk": "Silk",
    "silver": "Silver",
    "sorghum": "Sorghum",
    "soy-meal": "Soybean Meal",
    "soy-oil": "Soybean Oil",
    "soybean": "Soybean",
    "strategic-metal": "Strategic Metal",
    "sugar": "Sugar",
    "sun-meal": "Sunflower Meal",
    "sun-oil": "Sunflower Oil",
    "sunseed": "Sunflower Seed",
    "tapioca": "Tapioca",
    "tea": "Tea",
    "tin": "Tin",
    "tung-oil": "Tung Oil",
    "tung": "Tung",
    "veg-oil": "Vegetable Oil",
    "wheat": "Wheat",
    "wool": "Wool",
    "zinc": "Zinc",
    # Energy Codes
    "crude": "Crude Oil",
    "heat": "Heating Oil/Gas Oil",
    "fuel": "Fuel Oil",
    "gas": "Gasoline",
    "nat-gas": "Natural Gas",
    "pet-chem": "Petro-Chemicals",
    "propane": "Propane",
    "jet": "Jet and Kerosene",
    "naphtha": "Naphtha",
}

_LETTERS = re.compile(r"[^a-z0-9]")


def topic_section(code: str) -> str:
    """The section for a topic code: ``"acq"`` → ``"Mergers/Acquisitions (ACQ)"``,
    ``"coffee"`` → ``"Coffee"``; an unknown code as it is (``normalise_section`` capitalises
    it)."""
    key = code.strip().lower()
    name = TOPIC_NAMES.get(key)
    if name is None:
        return code
    if _LETTERS.sub("", name.lower()) == _LETTERS.sub("", key):
        return name
    return f"{name} ({key.upper()})"
