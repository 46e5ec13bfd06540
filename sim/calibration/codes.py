"""NHS code lists for admitted patient care, mapped to carepath's categories.

Hospital Episode Statistics (HES) and the Secondary Uses Service (SUS) record
how a patient came in and where they went as codes from the NHS Data Model and
Dictionary (HES Data Dictionary, admitted patient care: ADMIMETH, ADMISORC,
DISDEST, DISMETH). carepath needs coarser, domain words:

- **admission method**: ``emergency`` (codes 21-28 and 2A-2D: via A&E, GP, bed
  bureau, consultant clinic, mental health crisis team, other), ``elective``
  (11-13: waiting list, booked, planned), ``maternity`` (31, 32) and ``other``
  (81 transfer of an admitted patient, 82-84 births, 89, 98, 99);
- **where from / where to**: ``usual_residence`` (19 usual place of residence,
  29 temporary place of residence), ``care_home`` (54 NHS-run care home, 65
  local authority residential accommodation, 69 local authority home, 85
  non-NHS care home, 86 non-NHS nursing home), ``community_bed`` (49-53 a ward of
  another NHS provider, which is where step-down and rehabilitation beds sit,
  87 a non-NHS hospital, 88 a hospice), ``other`` (courts, police, prisons,
  secure units, foster care, babies born in hospital) and ``died`` (DISMETH 4
  or 5, or DISDEST 79);
- codes 98 (not applicable: still in hospital) and 99 (not known) are
  ``unknown``; a code outside the lists is rejected, naming the column and code.

Those categories map to NHS England's discharge pathways roughly as usual
residence -> P0 or P1 (an extract cannot tell whether new support was arranged),
community bed -> P2, care home -> P3.
"""

from __future__ import annotations

ADMISSION_METHODS: dict[str, str] = {
    **dict.fromkeys(("11", "12", "13"), "elective"),
    **dict.fromkeys(("21", "22", "23", "24", "25", "26", "27", "28", "2A", "2B", "2C", "2D"), "emergency"),
    **dict.fromkeys(("31", "32"), "maternity"),
    **dict.fromkeys(("81", "82", "83", "84", "89"), "other"),
    "98": "unknown",
    "99": "unknown",
}

PLACES: dict[str, str] = {
    "19": "usual_residence",
    "29": "usual_residence",
    **dict.fromkeys(("54", "65", "69", "85", "86"), "care_home"),
    **dict.fromkeys(("49", "50", "51", "52", "53", "87", "88"), "community_bed"),
    **dict.fromkeys(("30", "37", "38", "39", "40", "41", "42", "48", "66", "79", "84", "89"), "other"),
    "98": "unknown",
    "99": "unknown",
}

#: DISDEST 79 means "not applicable: patient died or stillbirth"
DISCHARGE_DESTINATIONS: dict[str, str] = {**PLACES, "79": "died"}

DISCHARGE_METHODS: dict[str, str] = {
    "1": "discharged",  # on clinical advice or with clinical consent
    "2": "discharged",  # self-discharged
    "3": "discharged",  # by a mental health review tribunal, the Home Secretary or a court
    "4": "died",
    "5": "died",  # stillbirth
    "8": "open",  # not applicable: still in hospital
    "9": "unknown",
}

#: carepath's own words, accepted in the carepath spell format
METHOD_WORDS = ("emergency", "elective", "maternity", "other", "unknown")
SOURCE_WORDS = ("usual_residence", "care_home", "community_bed", "other", "unknown")
DESTINATION_WORDS = ("usual_residence", "care_home", "community_bed", "died", "other", "unknown")

#: destination -> NHS England discharge pathway (P0 stands for P0 or P1: see above)
DESTINATION_PATHWAY = {"usual_residence": "P0", "community_bed": "P2", "care_home": "P3"}


def normalise_code(value: str) -> str:
    """'01' and '1' are the same DISMETH; ' 19 ' is 19; '2a' is 2A."""
    text = value.strip().upper()
    if text.endswith(".0") and text[:-2].isdigit():  # a code read as a float somewhere upstream
        text = text[:-2]
    return text
