#!/usr/bin/env python3
"""Generate the plain_language suite: technical note -> plain-language rewrite.

Every item is a chat pair: the user turn holds a short technical or medical
note (discharge instructions, lab result note, medication leaflet, IT incident
note, insurance or billing notice, warranty terms) of 35-90 words; the
assistant turn is a rewrite for the patient or customer of at most 60 words,
without jargon, that keeps every instruction, number and date.

Notes are built from paired building blocks: every opening, clause and closing
exists twice, once technical and once plain ("Take 500 mg paracetamol PO q6h
PRN for pyrexia" / "Take 500 mg of paracetamol by mouth every 6 hours if you
have a fever"). Slots ("{dose}") are filled once per clause (or once per note
for names, dates and references) and the same value, or its paired plain form,
goes into both sides, so the rewrite is correct by construction. A note is an
opening, 2-4 clauses of one domain in random order and sometimes a closing.

The generator checks every gold rewrite: at most 60 words, none of the jargon
terms (JARGON, the list the suite checks, plus GOLD_ONLY_JARGON), and every
number of the source present in the rewrite (see NUM_RE).

Standard library only; the same --seed always gives byte-identical files.

    python suites/plain_language/generate.py [--seed 13] [--out DIR]
"""
from __future__ import annotations

import argparse
import datetime
import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent

SPLIT_SIZES = {"train": 300, "validation": 50, "test": 100}
PREFIX = "pl"
SOURCE_WORDS = (35, 90)
MAX_REWRITE_WORDS = 60
CLAUSE_COUNTS = [2, 3, 4]
CLAUSE_WEIGHTS = [4, 4, 3]
K_FALLBACK = 300         # tries with one clause count before trying one fewer
CLOSING_PROB = 0.4
SIM_THRESHOLD = 0.5      # word 5-gram Jaccard at or above this is a near-duplicate
SHINGLE = 5
CONTAIN_THRESHOLD = 0.7  # word 3-gram containment (bench data check flags 0.8)
CONTAIN_NGRAM = 3
MAX_ATTEMPTS = 4000

# The checks the suite applies to a model's rewrite (see README):
#  - at most MAX_REWRITE_WORDS words (whitespace-separated tokens);
#  - none of JARGON, matched case-insensitively as a whole word, with an
#    optional plural "s" (regex \bTERMs?\b);
#  - every number of the source in the rewrite: each NUM_RE match of the
#    source must also be a NUM_RE match of the rewrite (same string).
JARGON = ["PO", "PRN", "q4h", "q6h", "q8h", "pyrexia", "hypertension", "analgesia",
          "NSAID", "hepatic", "renal", "contraindicated", "erythema", "sutures",
          "SLA", "latency", "failover", "MFA", "adjudicated", "RMA"]
# Further source jargon the gold rewrites also avoid (not part of the suite's check:
# some are ordinary words in other senses, or too rare in the sources).
GOLD_ONLY_JARGON = ["BD", "TDS", "QDS", "OD", "nocte", "mane", "ORIF", "cholecystectomy",
                    "herniorrhaphy", "dyspnoea", "purulent", "mobilise", "posology",
                    "somnolence", "concomitant", "potentiate", "ADR", "CNS", "GI", "eGFR",
                    "mmol", "RTO", "RPO", "TLS", "API", "DNS", "RCA", "coinsurance",
                    "deductible", "EOB", "LFT", "CRP", "TSH", "Hb", "INR", "ED",
                    "cellulitis", "excision", "urinalysis", "MSU", "nodes", "replica",
                    "re-authenticate", "adverse", "reimbursement", "subclinical",
                    "hypothyroidism", "leucocytes", "elevate", "lower limb"]
NUM_RE = re.compile(r"\d+(?:[.,:/]\d+)*")

MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]


def jargon_re(terms: list[str]) -> re.Pattern:
    return re.compile(r"\b(" + "|".join(re.escape(t) for t in terms) + r")s?\b", re.I)


JARGON_RE = jargon_re(JARGON)
GOLD_JARGON_RE = jargon_re(JARGON + GOLD_ONLY_JARGON)

# ---------------------------------------------------------------------------
# Slot values. A value is a string (same on both sides) or a (technical,
# plain) pair. Slots named in NOTE_SLOTS are drawn once per note; the others
# once per clause.
# ---------------------------------------------------------------------------
NOTE_SLOTS = {"date", "limb", "unit", "drug", "drug_cap", "strength", "maxdose", "ticket",
              "service", "claim", "acct", "policy", "product", "model", "serial", "phone",
              "sev"}

FREQ = {"q4h": ("q4h", "every 4 hours"), "q6h": ("q6h", "every 6 hours"),
        "q8h": ("q8h", "every 8 hours"), "OD": ("OD", "once a day"),
        "BD": ("BD", "twice a day"), "TDS": ("TDS", "three times a day"),
        "QDS": ("QDS", "four times a day")}
# (name, doses, frequencies): every dose at every listed frequency stays within
# the usual adult daily maximum.
ANALGESICS = [("paracetamol", ["500 mg", "1 g"], ["q6h", "QDS", "q8h", "TDS"]),
              ("ibuprofen", ["200 mg", "400 mg"], ["q8h", "TDS", "QDS"]),
              ("codeine", ["15 mg", "30 mg"], ["q4h", "q6h", "QDS"]),
              ("naproxen", ["250 mg", "500 mg"], ["BD"])]
ANTIBIOTICS = [("amoxicillin", ["250 mg", "500 mg"], ["TDS", "q8h"]),
               ("flucloxacillin", ["500 mg", "1 g"], ["QDS", "q6h"]),
               ("doxycycline", ["100 mg"], ["OD", "BD"]),
               ("cefalexin", ["250 mg", "500 mg"], ["BD", "TDS", "QDS"]),
               ("clarithromycin", ["250 mg", "500 mg"], ["BD"])]
HELD_DRUGS = ["aspirin", "warfarin", "metformin", "ramipril", "apixaban", "clopidogrel"]
# Drugs for leaflets: (name, strengths, class, maximum daily dose). Classes pick
# which clauses fit; the maximum bounds the dosing clauses.
LEAFLET_DRUGS = [
    ("ibuprofen", ["200 mg", "400 mg"], "nsaid", "1,200 mg"),
    ("naproxen", ["250 mg", "500 mg"], "nsaid", "1,000 mg"),
    ("diclofenac", ["25 mg", "50 mg"], "nsaid", "150 mg"),
    ("codeine", ["15 mg", "30 mg"], "opioid", "240 mg"),
    ("tramadol", ["50 mg"], "opioid", "400 mg"),
    ("omeprazole", ["20 mg", "40 mg"], "ppi", "40 mg"),
    ("lansoprazole", ["15 mg", "30 mg"], "ppi", "30 mg"),
    ("amoxicillin", ["250 mg", "500 mg"], "antibiotic", "3 g"),
    ("doxycycline", ["100 mg"], "antibiotic", "200 mg"),
    ("cefalexin", ["250 mg", "500 mg"], "antibiotic", "4 g"),
    ("atorvastatin", ["10 mg", "20 mg", "40 mg"], "statin", "80 mg"),
    ("simvastatin", ["20 mg", "40 mg"], "statin", "80 mg"),
    ("sertraline", ["50 mg", "100 mg"], "ssri", "200 mg"),
    ("citalopram", ["10 mg", "20 mg"], "ssri", "40 mg"),
]


def milligrams(dose: str) -> float:
    value, unit = dose.split()
    return float(value.replace(",", "")) * (1000 if unit == "g" else 1)


# (technical name, plain name); the technical one takes no article.
SERVICES = [("customer portal", "our customer website"),
            ("payments API", "online payments"),
            ("mail relay", "our email service"),
            ("VPN gateway", "remote access"),
            ("identity provider", "the sign-in service"),
            ("mobile app backend", "the mobile app"),
            ("file-sync service", "file syncing"),
            ("booking API", "online booking")]
SEVERITIES = [("P1", "priority 1"), ("P2", "priority 2"), ("Sev-1", "severity 1"),
              ("Sev-2", "severity 2"), ("P3", "priority 3")]
PRODUCTS = ["cordless drill", "espresso machine", "robot vacuum", "laptop", "e-bike",
            "washing machine", "smartwatch", "air purifier", "soundbar", "electric kettle",
            "dishwasher", "tablet", "lawn mower", "baby monitor"]


def fmt_date(day: datetime.date, style: int) -> str:
    if style == 0:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    if style == 1:
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def slot_makers(rng: random.Random, note: dict) -> dict:
    """Functions that draw a value for each slot name."""
    r = rng

    def phone():
        return r.choice([f"0{r.randint(113, 191)} {r.randint(400, 999)} {r.randint(1000, 9999)}",
                         f"0800 {r.randint(100, 999)} {r.randint(1000, 9999)}",
                         f"1-800-{r.randint(200, 999)}-{r.randint(1000, 9999)}",
                         f"020 {r.randint(3000, 8999)} {r.randint(1000, 9999)}"])

    def later_date():
        """A date 5-60 days after the note's date, in the same style."""
        return fmt_date(note["first"] + datetime.timedelta(days=r.randrange(5, 60)),
                        note["style"])

    def clock():
        return f"{r.randint(0, 23):02d}:{r.choice([0, 5, 10, 14, 20, 30, 41, 45, 52]):02d}"

    def times():
        start = r.randint(0, 1000)
        end = start + r.randint(15, 400)
        return (f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}")

    def money(lo, hi, cents=True):
        value = r.randint(lo, hi) + (r.choice([0, 0.5, 0.25, 0.99, 0.4]) if cents else 0)
        return f"${value:,.2f}" if cents and value != int(value) else f"${int(value):,}"

    def lab_range():
        return r.choice([("13.0", "17.0"), ("12.0", "15.5"), ("11.5", "16.5")])

    def dose_from(pool):
        return r.choice(pool)

    makers = {
        # note-level
        "date": lambda: note["date"], "date2": later_date,
        "phone": phone,
        "ticket": lambda: r.choice([f"INC{r.randint(10000, 99999):07d}",
                                    f"INC-{r.randint(1000, 99999)}",
                                    f"SR-{r.randint(100000, 999999)}"]),
        "service": lambda: r.choice(SERVICES), "sev": lambda: r.choice(SEVERITIES),
        "claim": lambda: f"{r.choice(['', 'CL-', 'C'])}{r.randint(1000000, 9999999)}",
        "acct": lambda: f"{r.randint(10000000, 99999999)}",
        "policy": lambda: f"{r.choice(['HP', 'PL', 'MED'])}-{r.randint(100000, 999999)}",
        "product": lambda: r.choice(PRODUCTS),
        "model": lambda: f"{r.choice(['XR', 'TX', 'Q', 'AV', 'Pro '])}{r.randint(100, 990)}",
        "serial": lambda: f"{r.choice(['', 'SN', 'A', 'K'])}{r.randint(10000000, 99999999)}",
        # clause-level, medical
        "hours": lambda: str(r.choice([24, 48, 72])),
        "d12": lambda: r.choice([("5", "7"), ("7", "10"), ("10", "14"), ("12", "14")]),
        "weeks": lambda: str(r.choice([2, 3, 4, 6, 8, 12])),
        "kg": lambda: str(r.choice([2, 5, 10])),
        "n": lambda: str(r.choice([3, 5, 7, 10, 14])),
        "temp": lambda: r.choice(["37.8°C", "38°C", "38.5°C", "38.0°C"]),
        "analgesic": lambda: r.choice(ANALGESICS),
        "abx": lambda: r.choice(ANTIBIOTICS),
        "held": lambda: r.choice(HELD_DRUGS),
        "dose1g": lambda: r.choice(["500 mg", "1 g"]),
        "litres": lambda: r.choice(["1.5", "2", "2.5"]),
        "bp": lambda: f"{r.randint(141, 158)}/{r.randint(86, 96)}",
        "time": lambda: r.choice(["08:30", "09:15", "10:00", "11:45", "13:30", "14:20", "15:00"]),
        "hb": lambda: (f"{r.randint(90, 114) / 10:.1f}",) + lab_range(),
        "k": lambda: f"{r.randint(36, 50) / 10:.1f}",
        "egfr": lambda: str(r.randint(46, 59)),
        "glucose": lambda: f"{r.randint(72, 98) / 10:.1f}",
        "chol": lambda: (f"{r.randint(62, 79) / 10:.1f}", f"{r.randint(40, 52) / 10:.1f}"),
        "alt": lambda: (str(r.randint(62, 180)), r.choice(["40", "45", "50"])),
        "tsh": lambda: f"{r.randint(55, 95) / 10:.1f}",
        "crp": lambda: str(r.randint(24, 160)),
        "vitd": lambda: (str(r.randint(12, 24)), r.choice(["800", "1,000", "2,000"])),
        "ferritin": lambda: (str(r.randint(5, 14)), r.choice(["200 mg", "210 mg"])),
        "inr": lambda: (f"{r.randint(36, 52) / 10:.1f}", r.choice(["3 mg", "4 mg", "2.5 mg"])),
        "mins": lambda: str(r.choice([30, 60])),
        "store": lambda: r.choice(["25°C", "30°C"]),
        "course": lambda: str(r.choice([5, 7, 10, 14])),
        "held_anticoag": lambda: r.choice(["warfarin", "apixaban", "rivaroxaban"]),
        "ratio": lambda: r.choice([("1 in 10", "1 in 10"), ("1 in 100", "1 in 100")]),
        # clause-level, IT
        "ms": lambda: str(r.choice([800, 1200, 1500, 2000, 3000, 5000])),
        "clock": clock, "times": times,
        "rto": lambda: str(r.choice([4, 6, 9, 12, 18, 25, 40])),
        "pct_err": lambda: r.choice(["3", "7.5", "12", "18", "25", "40"]),
        "uptime": lambda: r.choice([("99.2", "99.9"), ("98.7", "99.5"), ("99.61", "99.95"),
                                    ("99.4", "99.9")]),
        "credit": lambda: str(r.choice([5, 10, 15, 25])),
        "ver": lambda: f"{r.randint(2, 14)}.{r.randint(0, 20)}.{r.randint(0, 9)}",
        "bdays": lambda: str(r.choice([3, 5, 7, 10])),
        "pwdays": lambda: str(r.choice([60, 90, 180, 365])),
        "prop": lambda: str(r.choice([4, 12, 24, 48])),
        "users": lambda: f"{r.choice([120, 350, 1200, 2400, 8000]):,}",
        # clause-level, billing
        "billed": lambda: (money(400, 4800), money(150, 380)),
        "deduct": lambda: money(100, 1500, cents=False),
        "owed": lambda: money(20, 900),
        "coins": lambda: str(r.choice([10, 20, 30, 40])),
        "section": lambda: f"{r.randint(2, 14)}.{r.randint(1, 9)}",
        "appeal": lambda: str(r.choice([30, 60, 90, 180])),
        "oon": lambda: str(r.choice([50, 60, 70])),
        "premium": lambda: money(45, 690),
        "ddday": lambda: r.choice(["1st", "5th", "15th", "28th"]),
        "fee": lambda: money(10, 45, cents=False),
        "latedays": lambda: str(r.choice([14, 30, 45])),
        "oop": lambda: money(1500, 8700, cents=False),
        "copay": lambda: money(10, 60, cents=False),
        # clause-level, warranty
        "months": lambda: str(r.choice([12, 24, 36])),
        "months2": lambda: str(r.choice([12, 18, 24])),
        "batt": lambda: str(r.choice([70, 75, 80])),
        "claimdays": lambda: str(r.choice([14, 30, 60])),
        "extprice": lambda: money(29, 199, cents=r.random() < 0.5),
        "extdays": lambda: str(r.choice([30, 60, 90])),
        "turn": lambda: str(r.choice([5, 7, 10, 15])),
        "commercial": lambda: str(r.choice([3, 6, 12])),
        "regdays": lambda: str(r.choice([28, 30, 90])),
        "regmonths": lambda: str(r.choice([6, 12])),
    }
    return makers


# ---------------------------------------------------------------------------
# Building blocks: (technical, plain). A slot "{x}" takes the value of slot x;
# "{x.0}", "{x.1}" take parts of a tuple value; "{x.t}" / "{x.p}" the technical
# and plain forms of a paired value ("q6h" / "every 6 hours").
# ---------------------------------------------------------------------------
DOMAINS: dict[str, dict] = {}

# Openings may end with what they provide: tags that clauses can require (a
# wound, an operation, a limb) and note-level slot values ({limb}).
SURGERY = {"tags": {"wound", "surgery"}}
DOMAINS["discharge"] = {
    "openings": [
        ("[Discharge instructions|Post-discharge advice] following [elective|uncomplicated] "
         "laparoscopic cholecystectomy performed on {date}.",
         "You had your gallbladder removed by keyhole surgery on {date}.", SURGERY),
        ("Post-operative advice for the patient following open inguinal hernia repair "
         "(herniorrhaphy) performed on {date}.",
         "Advice after your groin hernia operation on {date}.", SURGERY),
        ("Discharge summary: patient admitted on {date} with community-acquired pneumonia and "
         "pyrexia, now clinically stable for discharge.",
         "You came in on {date} with a chest infection and fever, and can now go home.",
         {"tags": {"medical"}}),
        ("Discharge advice following ORIF of a distal radius fracture, performed under "
         "general anaesthesia on {date}.",
         "On {date} your broken wrist was fixed with a metal plate.",
         {"tags": {"wound", "surgery", "limb"}, "ctx": {"limb": "arm"}}),
        ("Day-case discharge following excision of a sebaceous cyst under local anaesthetic "
         "on {date}.",
         "On {date} a skin lump was removed, and you can go home today.", SURGERY),
        ("Discharge note: patient admitted on {date} with cellulitis of the left lower limb, "
         "now responding to treatment.",
         "You came in on {date} with a skin infection on your left leg, which is getting "
         "better.", {"tags": {"medical", "limb"}, "ctx": {"limb": "leg"}}),
        ("Discharge instructions following diagnostic knee arthroscopy performed on {date}.",
         "Advice after your keyhole knee operation on {date}.",
         {"tags": {"wound", "surgery", "limb"}, "ctx": {"limb": "leg"}}),
    ],
    # (technical, plain[, tags the opening must provide])
    "clauses": [
        ("The surgical wound [should|must] be kept clean and dry for a minimum of {hours} h "
         "post-operatively.",
         "Keep the wound clean and dry for {hours} hours.", {"wound"}),
        ("Sutures are to be removed by the practice nurse at the GP surgery in "
         "{d12.0}–{d12.1} days.",
         "Your GP nurse will remove your stitches in {d12.0} to {d12.1} days.", {"wound"}),
        ("Analgesia: {analgesic.0} {dose} PO {freq.t} PRN for pain.",
         "For pain, take {dose} of {analgesic.0} by mouth {freq.p} if needed."),
        ("Complete the [prescribed|full] course of {abx.0} {abxdose} PO {abxfreq.t} for a "
         "total of {n} days.",
         "Take {abxdose} of {abx.0} by mouth {abxfreq.p} for {n} days. Finish the pack."),
        ("Return to the ED [without delay|immediately] in the event of pyrexia >{temp}, "
         "spreading erythema or purulent discharge from the wound site.",
         "Go to A&E if you get a temperature over {temp}, spreading redness, or pus from the "
         "wound.", {"wound"}),
        ("The patient [should|must] avoid lifting loads in excess of {kg} kg for a period of "
         "{weeks} weeks.",
         "Do not lift more than {kg} kg for {weeks} weeks.", {"surgery"}),
        ("Driving is [not advised|contraindicated] for {weeks} weeks or until the patient is "
         "able to perform an emergency stop [safely|without pain].",
         "Do not drive for {weeks} weeks, or until you can brake hard safely.", {"surgery"}),
        ("An outpatient review appointment has been arranged in clinic on {date2} at {time}.",
         "Come back to the clinic on {date2} at {time}."),
        ("The patient [is encouraged to|should] mobilise as tolerated and elevate the "
         "affected limb when [seated|resting].",
         "Move about as much as you can, and raise your {limb} when you rest.", {"limb"}),
        ("NSAIDs [should be avoided|are contraindicated] for {n} days owing to the increased "
         "risk of post-operative bleeding.",
         "Do not take anti-inflammatory painkillers like ibuprofen for {n} days. They can "
         "cause bleeding.", {"surgery"}),
        ("Showering is permitted after {hours} h; however, bathing and swimming [should be "
         "avoided|are not permitted] for {weeks} weeks.",
         "You can shower after {hours} hours, but do not bath or swim for {weeks} weeks.",
         {"wound"}),
        ("The wound dressing is to be changed by the practice nurse on {date2}.",
         "Your GP nurse will change your dressing on {date2}.", {"wound"}),
        ("[Regular|Usual] medications may be resumed, with the exception of {held}, which is "
         "to be withheld pending medical review.",
         "Restart your usual medicines, but not {held} until a doctor checks you."),
        ("Urgent medical review [should be sought|is required] if calf pain, dyspnoea or "
         "chest pain develops.",
         "Get help at once if you have calf pain, chest pain or shortness of breath."),
        ("Paracetamol {dose1g} PO q6h PRN may be taken for pyrexia, not exceeding 4 g in "
         "24 h.",
         "For a fever, take {dose1g} of paracetamol by mouth every 6 hours if needed, up to 4 g "
         "in 24 hours."),
        ("Oral fluid intake of at least {litres} L per day is advised during recovery.",
         "Drink at least {litres} litres of fluid a day while you recover."),
    ],
    "closings": [
        ("For any queries, please contact the ward directly on {phone}.",
         "Questions? Call the ward on {phone}."),
        ("Queries may be directed to the surgical nurse specialist on {phone} (Mon–Fri).",
         "Call the surgery nurse on {phone}, Monday to Friday, with questions.", {"surgery"}),
        ("A copy of this discharge summary has been forwarded to the patient's GP.",
         "Your GP has a copy of this."),
    ],
}

DOMAINS["lab"] = {
    "openings": [
        ("Laboratory report for the [renal and hepatic|routine] blood panel, sample collected "
         "on {date}.",
         "Your blood test results from {date}."),
        ("Results of fasting blood tests, including a renal profile, drawn on {date} and "
         "reviewed by the requesting clinician.",
         "The results of the blood test you had before eating on {date}."),
        ("Clinician's note regarding the blood panel of {date} (renal function, liver "
         "function and full blood count).",
         "What your blood test from {date} shows."),
        ("Summary of pathology results (renal, hepatic and lipid profiles) for the sample "
         "received on {date}.",
         "Your test results from {date}."),
    ],
    "clauses": [
        ("Hb {hb.0} g/dL (reference range {hb.1}–{hb.2}), consistent with mild normocytic "
         "anaemia.",
         "Your red blood cell level (haemoglobin) is {hb.0}, a little below the normal {hb.1} "
         "to {hb.2}."),
        ("Serum potassium (K+) {k} mmol/L, within the laboratory reference range.",
         "Your potassium is {k}, which is normal."),
        ("eGFR {egfr} mL/min, indicating mildly reduced renal function; [repeat|recheck] in "
         "{weeks} weeks.",
         "Your kidney test ({egfr}) shows they work a bit less well. We will retest in {weeks} "
         "weeks."),
        ("Fasting plasma glucose {glucose} mmol/L, which exceeds the diagnostic threshold of "
         "7.0 mmol/L.",
         "Your fasting blood sugar, {glucose}, is above 7.0, the level that means diabetes."),
        ("Total cholesterol {chol.0} mmol/L with LDL {chol.1} mmol/L; initiation of statin "
         "therapy is recommended.",
         "Your cholesterol is {chol.0} ('bad' cholesterol {chol.1}). We advise a "
         "cholesterol-lowering medicine."),
        ("ALT {alt.0} U/L (upper limit {alt.1}), suggestive of hepatic inflammation; advise "
         "alcohol abstinence pending repeat LFTs.",
         "A liver test is high at {alt.0} (limit {alt.1}). Avoid alcohol until we retest."),
        ("TSH {tsh} mU/L, mildly elevated, in keeping with subclinical hypothyroidism; "
         "recheck thyroid function in {weeks} weeks.",
         "Your thyroid test is {tsh}, a little high. We will check it again in {weeks} weeks."),
        ("CRP {crp} mg/L, significantly raised and consistent with an acute bacterial "
         "infection.",
         "Your inflammation test is high at {crp}, which suggests an infection."),
        ("Vitamin D {vitd.0} nmol/L, in the deficient range; commence colecalciferol "
         "{vitd.1} units PO OD.",
         "Your vitamin D is low ({vitd.0}). Take {vitd.1} units of vitamin D by mouth daily."),
        ("Ferritin {ferritin.0} µg/L, indicating depleted iron stores; commence ferrous "
         "sulfate {ferritin.1} PO OD.",
         "Your iron is low ({ferritin.0}). Take one {ferritin.1} iron tablet by mouth daily."),
        ("Urinalysis positive for nitrites and leucocytes; MSU has been sent for culture and "
         "sensitivities.",
         "Your urine test suggests an infection; the lab is checking which germ."),
        ("INR {inr.0} (target range 2.0–3.0); reduce warfarin to {inr.1} OD and recheck INR "
         "in {n} days.",
         "Your clotting test is {inr.0} (aim: 2.0 to 3.0). Take {inr.1} of warfarin once a day "
         "and retest in {n} days."),
        ("Repeat bloods, including a full blood count, are requested in {weeks} weeks.",
         "Have another blood test in {weeks} weeks."),
        ("Blood pressure {bp} mmHg on review, consistent with stage 1 hypertension.",
         "Your blood pressure was {bp}, which is mildly high (stage 1)."),
    ],
    "closings": [
        ("These results were discussed with the patient by telephone on {date2}.",
         "We went through these results with you by phone on {date2}."),
        ("The patient is advised to book a GP review within {n} days.",
         "Please book a GP appointment within {n} days."),
        ("Practice contact for queries: {phone}.", "Questions? Call the surgery on {phone}."),
    ],
}

DOMAINS["medication"] = {
    "openings": [
        ("{drug} {strength} film-coated tablets for PO use: information for the patient. Read "
         "all of this leaflet carefully before use.",
         "About {drug} {strength} tablets. Please read this first.", {"ctx": {"unit": "tablet"}}),
        ("Package leaflet: {drug} {strength} hard capsules for oral (PO) administration.",
         "How to take {drug} {strength} capsules.", {"ctx": {"unit": "capsule"}}),
        ("Summary of product information for {drug} {strength}, intended for the patient.",
         "Key facts about {drug} {strength}."),
        ("Medication guide for {drug} {strength}, dispensed by the pharmacy on {date}.",
         "Your {drug} {strength}, from the pharmacy on {date}."),
    ],
    # (technical, plain, drug classes it fits; None = any)
    "clauses": [
        ("Posology: {tabs.t} PO OD, to be taken with or shortly after food.",
         "Take {tabs.p} by mouth once a day with food.", None),
        ("The maximum daily dose of {maxdose} must not be exceeded under any circumstances.",
         "Never take more than {maxdose} in a day.", None),
        ("{drug_cap} is contraindicated in patients with severe hepatic or renal impairment.",
         "Do not take it if you have serious liver or kidney disease.", None),
        ("Concomitant use with {held_anticoag} may potentiate the anticoagulant effect and "
         "increase bleeding risk.",
         "Taking it with {held_anticoag} can make you bleed more easily.",
         {"nsaid", "ssri", "antibiotic"}),
        ("Use with caution in patients with hypertension or a history of cardiovascular "
         "disease.",
         "Ask your doctor first if you have high blood pressure or heart problems.", {"nsaid"}),
        ("May cause somnolence; patients should not drive or operate machinery if affected.",
         "It can make you sleepy. If it does, do not drive or use machines.",
         {"opioid", "ssri"}),
        ("Common ADRs (affecting ≥{ratio.t} patients) include nausea, headache and "
         "dizziness.",
         "Common side effects, in at least {ratio.p} people, are feeling sick, headache and "
         "dizziness.", None),
        ("Use in pregnancy is not recommended unless discussed with the prescriber.",
         "If you are pregnant, talk to your doctor before using it.", None),
        ("To be taken {mins} min before breakfast on an empty stomach for optimal "
         "absorption.",
         "Take it {mins} minutes before breakfast, before you eat.", {"ppi"}),
        ("Store below {store} in the original packaging; discard any remaining medicine {n} "
         "days after opening.",
         "Keep it below {store} in its box. Throw it away {n} days after opening.", None),
        ("Missed dose: take as soon as remembered unless the next dose is due within "
         "{hours} h; do not double the dose.",
         "If you miss a dose, take it when you remember, unless the next is due within "
         "{hours} hours. Never double up.", None),
        ("Alcohol should be avoided as it may potentiate CNS depression.",
         "Do not drink alcohol. It can make you very drowsy.", {"opioid", "ssri"}),
        ("As with all NSAIDs, take with food to minimise the risk of GI irritation.",
         "Take it with food to protect your stomach.", {"nsaid"}),
        ("Discontinue treatment and seek medical advice if a rash or jaundice develops.",
         "Stop it and see a doctor if you get a rash or yellow skin or eyes.", None),
        ("The full {course}-day course must be completed even if symptoms resolve earlier.",
         "Take it for all {course} days, even if you feel better sooner.", {"antibiotic"}),
        ("Analgesia: {strength} PO q{prn.0}h PRN, to a maximum of {prn.1} doses in any 24 h "
         "period.",
         "For pain, take {strength} by mouth every {prn.0} hours if needed, no more than "
         "{prn.1} doses in 24 hours.", {"nsaid", "opioid"}),
        ("To be taken at night; patients should report any unexplained muscle pain or "
         "weakness promptly.",
         "Take it in the evening. Tell your doctor soon about any muscle pain or weakness you "
         "cannot explain.", {"statin"}),
        ("The therapeutic effect may take {weeks} weeks to develop; treatment should not be "
         "stopped abruptly.",
         "It may take {weeks} weeks to work. Do not stop it suddenly.", {"ssri"}),
        ("May be used PRN for pyrexia in adults, not exceeding the stated daily maximum.",
         "You can also use it for a fever, but keep to the daily limit.", {"nsaid"}),
    ],
    "closings": [
        ("Suspected ADRs should be reported via the Yellow Card scheme.",
         "Report any side effects to the Yellow Card scheme."),
        ("Keep this medicine out of the sight and reach of children.",
         "Keep it where children cannot see or reach it."),
        ("Pharmacy helpline for queries: {phone}.", "Questions? Call the pharmacy on {phone}."),
    ],
}

DOMAINS["it"] = {
    "openings": [
        ("Incident {ticket} ({sev.t}): degraded performance and elevated latency affecting "
         "the {service.t} on {date}.",
         "Reference {ticket}, {sev.p}: {service.p} was slow on {date}."),
        ("Post-incident report {ticket}: unplanned outage of the {service.t} on {date}.",
         "Report {ticket}: {service.p} stopped working on {date}."),
        ("Status update for incident {ticket} ({service.t}), issued {date}.",
         "Update on problem {ticket} with {service.p}, {date}."),
        ("Planned maintenance notice (ref. {ticket}): scheduled works on the {service.t} on "
         "{date}, subject to the standard SLA exclusions.",
         "Notice {ticket}: planned work on {service.p} on {date}."),
    ],
    "clauses": [
        ("Between {times.0} and {times.1}, response latency exceeded {ms} ms for the majority of "
         "requests.",
         "From {times.0} to {times.1} it was slow, taking over {ms} milliseconds to respond."),
        ("Root cause analysis identified an expired TLS certificate on the primary load "
         "balancer.",
         "The cause was an expired security certificate on one of our servers."),
        ("Automatic failover to the standby database cluster completed at {clock}, with an "
         "RTO of {rto} min.",
         "At {clock} our main database switched to its backup. Service was back in {rto} "
         "minutes."),
        ("The error rate peaked at {pct_err}% of inbound requests during the incident window.",
         "At the worst point, {pct_err}% of requests failed."),
        ("No data loss occurred; the RPO for the affected systems was zero.",
         "No data was lost."),
        ("All users are required to re-enrol their MFA authenticator by {date2}.",
         "Everyone must set up the sign-in code app on their phone again by {date2}."),
        ("Users should clear cached credentials and re-authenticate to restore access.",
         "To get back in, sign out and then sign in again."),
        ("Monthly availability was {uptime.0}%, below the contractual SLA of {uptime.1}%.",
         "It worked {uptime.0}% of the month, below the {uptime.1}% we promise."),
        ("A service credit of {credit}% of the monthly subscription fee will be applied "
         "automatically.",
         "We will take {credit}% off your monthly bill."),
        ("Maintenance window: {times.0}–{times.1}; intermittent unavailability and elevated "
         "latency are expected.",
         "From {times.0} to {times.1} it may be slow or stop working now and then."),
        ("Security patch {ver} has been deployed to all production nodes.",
         "We have installed security update {ver} on all our servers."),
        ("A full RCA will be published within {bdays} business days.",
         "We will send a full report on the cause within {bdays} working days."),
        ("Passwords older than {pwdays} days will be force-expired at next login.",
         "If your password is over {pwdays} days old, you must change it when you next sign "
         "in."),
        ("DNS propagation of the change may take up to {prop} h.",
         "The change may take up to {prop} hours to reach everyone."),
        ("Approximately {users} users were affected at peak.",
         "About {users} people were affected."),
        ("Failover testing is scheduled for {date2}; no customer action is required.",
         "We will test our backup systems on {date2}. You do not need to do anything."),
    ],
    "closings": [
        ("Please contact the service desk on {phone}, quoting reference {ticket}.",
         "Call the help desk on {phone} and give reference {ticket}."),
        ("The next status update will be issued by {clock}.",
         "We will update you again by {clock}."),
        ("We apologise for any disruption caused.", "We are sorry for the trouble."),
    ],
}

DOMAINS["billing"] = {
    "openings": [
        ("Explanation of Benefits for claim {claim}, date of service {date}. This claim has "
         "been adjudicated.",
         "This explains what we paid on claim {claim}, for care on {date}."),
        ("Account statement for account {acct}, statement date {date}, covering all claims "
         "adjudicated this period.",
         "Statement for account {acct}, dated {date}, for the claims we processed."),
        ("Notice of adverse benefit determination in respect of claim {claim}, dated {date}.",
         "On {date} we decided not to pay all of claim {claim}."),
        ("Premium adjustment notice for policy {policy}, issued {date}.",
         "News about the cost of policy {policy}, sent on {date}."),
    ],
    "clauses": [
        ("Claim adjudicated: billed charges {billed.0}; allowed amount {billed.1} under the "
         "provider fee schedule.",
         "Your provider charged {billed.0}. We accept {billed.1} as the price."),
        ("An amount of {deduct} has been applied to the member's annual deductible.",
         "{deduct} counts toward the sum you pay yourself each year before we pay."),
        ("Patient responsibility: {owed}, payable in full by {date2}.",
         "You owe {owed}. Please pay by {date2}."),
        ("The service was denied as not medically necessary under section {section} of the "
         "policy wording.",
         "We did not pay because section {section} of your policy says it was not needed for "
         "your health."),
        ("Any appeal must be filed in writing within {appeal} days of the date of this "
         "notice.",
         "If you disagree, write to us within {appeal} days of this letter."),
        ("Prior authorisation was not obtained before the service was rendered.",
         "Nobody asked us to approve this care before you had it."),
        ("Out-of-network provider: reimbursement is limited to {oon}% of the usual and "
         "customary rate.",
         "This provider is not in our network, so we pay only {oon}% of the usual price."),
        ("The monthly premium will be adjusted to {premium}, effective {date2}.",
         "From {date2} you will pay {premium} a month."),
        ("Premiums will be collected by direct debit on the {ddday} of each month.",
         "We take the payment from your bank on the {ddday} of each month."),
        ("A late payment fee of {fee} will be applied to balances outstanding after "
         "{latedays} days.",
         "If you pay over {latedays} days late, we add a {fee} charge."),
        ("Coinsurance of {coins}% applies once the annual deductible has been met.",
         "Once you have paid your yearly share, you pay {coins}% of each bill."),
        ("The annual out-of-pocket maximum of {oop} has now been met.",
         "You have paid your yearly limit of {oop}, so covered care costs you nothing more "
         "this year."),
        ("A copay of {copay} was collected at the time of service.",
         "You paid a fixed {copay} at your visit."),
        ("The claim was adjudicated as a duplicate of a previously processed claim and no "
         "further payment will be issued.",
         "We already paid this claim, so we will not pay it again."),
    ],
    "closings": [
        ("For queries, please contact member services on {phone}.",
         "Questions? Call member services on {phone}."),
        ("Please note that this is not a bill.", "This letter is not a bill."),
        ("Please retain this notice for your records.", "Keep this letter."),
    ],
}

DOMAINS["warranty"] = {
    "openings": [
        ("Limited manufacturer's warranty applicable to the {product}, model {model}; RMA "
         "procedures apply to all claims.",
         "The guarantee for your {product}, model {model}. Ask us for a return number before "
         "any claim."),
        ("Warranty terms and conditions for the {product} (S/N {serial}). All returns require a "
         "valid RMA.",
         "Guarantee rules for your {product}, serial number {serial}. Ask us for a return "
         "number before sending it back."),
        ("Manufacturer's warranty statement for the {product} purchased on {date}.",
         "The maker's guarantee for the {product} you bought on {date}."),
        ("Warranty conditions applicable to the {product}, model {model}, sold on {date}.",
         "Guarantee for your {product}, model {model}, bought on {date}."),
    ],
    "clauses": [
        ("The product is warranted against defects in materials and workmanship for {months} "
         "months from the original date of purchase.",
         "We fix faults in parts or making for {months} months after you buy it."),
        ("Consumable parts and cosmetic damage are expressly excluded from coverage.",
         "Parts that wear out, and scratches or dents, are not covered."),
        ("The warranty is rendered void by unauthorised disassembly or repair by a third "
         "party.",
         "The guarantee ends if you open it or someone else repairs it."),
        ("An RMA number must be obtained from customer support prior to any return shipment.",
         "Before sending it back, ask us for a return number."),
        ("Proof of purchase is required, and claims must be lodged within {claimdays} days of "
         "the fault being discovered.",
         "Keep your receipt, and tell us within {claimdays} days of finding the fault."),
        ("Battery capacity falling below {batt}% of rated capacity within {months2} months "
         "qualifies for a free replacement.",
         "If the battery holds under {batt}% of its charge within {months2} months, we "
         "replace it free."),
        ("The manufacturer's liability is limited to repair or replacement, and "
         "consequential losses are excluded.",
         "We only repair or replace it. We do not pay for other losses it causes."),
        ("Inbound shipping is at the customer's expense; return shipping of repaired units is "
         "prepaid.",
         "You pay to send it to us. We pay to send it back."),
        ("Extended cover is available for {extprice} if purchased within {extdays} days of "
         "the original purchase.",
         "You can buy extra cover for {extprice} within {extdays} days of buying it."),
        ("Standard repair turnaround is {turn} business days from receipt of the unit.",
         "Repairs take {turn} working days after it reaches us."),
        ("Commercial or rental use reduces the warranty term to {commercial} months.",
         "If you use it for business or hire it out, the guarantee lasts only {commercial} "
         "months."),
        ("Online product registration within {regdays} days extends coverage by "
         "{regmonths} months.",
         "Register online within {regdays} days to get {regmonths} extra months of cover."),
        ("Returns shipped without a valid RMA will be refused.",
         "We will refuse any return sent without a return number."),
        ("These terms do not affect the consumer's statutory rights.",
         "This does not change your legal rights."),
    ],
    "closings": [
        ("Technical support line: {phone}.", "For help, call {phone}."),
        ("Please retain your receipt as proof of purchase.", "Keep your receipt."),
    ],
}

DOMAIN_ORDER = list(DOMAINS)

# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------
ALT_RE = re.compile(r"\[([^\[\]]*)\]")
SLOT_RE = re.compile(r"\{(\w+)(?:\.(\w))?\}")


def expand(rng: random.Random, text: str) -> str:
    while ALT_RE.search(text):
        text = ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), text)
    return text


def fill_pair(rng: random.Random, tech: str, plain: str, makers: dict,
              note_ctx: dict) -> tuple[str, str]:
    """Fill one building block; both sides share the slot values."""
    local: dict = {}

    def value(name: str):
        if name in NOTE_SLOTS:
            if name not in note_ctx:
                note_ctx[name] = makers[name]()
            return note_ctx[name]
        if name not in local:
            local[name] = makers[name]()
        return local[name]

    def sub(side: int):
        def repl(m: re.Match) -> str:
            v = value(m.group(1))
            part = m.group(2)
            if part is None:
                if isinstance(v, tuple):
                    raise KeyError(f"slot {m.group(1)} needs a part")
                return v
            if part in "tp":
                return v[0] if part == "t" else v[1]
            return v[int(part)]
        return repl

    tech = SLOT_RE.sub(sub(0), expand(rng, tech))
    plain = SLOT_RE.sub(sub(1), expand(rng, plain))
    return tech, plain


def word_count(text: str) -> int:
    return len(text.split())


def numbers(text: str) -> set[str]:
    return set(NUM_RE.findall(text))


# Blocks on the same topic are not combined in one note: they would repeat or
# contradict each other (two "get an RMA" rules; "once a day with food" next to
# "before breakfast"; an NSAID for pain next to "avoid NSAIDs").
TOPICS = {
    "rma": re.compile(r"\bRMA\b"),
    "dosing": re.compile(r"Posology|^Analgesia: \{strength\}|before breakfast|taken at night"),
    "pain_relief": re.compile(r"^Analgesia: \{analgesic|^Paracetamol|^NSAIDs"),
}


def topic_words(text: str) -> set[str]:
    return {name for name, pattern in TOPICS.items() if pattern.search(text)}


def make_note(rng: random.Random, domain: str, k: int) -> tuple[str, str, dict]:
    """An opening, k clauses of the domain in random order, sometimes a closing."""
    spec = DOMAINS[domain]
    note: dict = {"style": rng.randrange(3),
                  "first": datetime.date(2023, 1, 1) + datetime.timedelta(days=rng.randrange(1000))}
    note["date"] = fmt_date(note["first"], note["style"])
    makers = slot_makers(rng, note)
    ctx: dict = {}
    opening = rng.choice(spec["openings"])
    provided = opening[2] if len(opening) > 2 else {}
    tags = provided.get("tags", set())
    ctx.update(provided.get("ctx", {}))
    if domain == "medication":
        name, strengths, drug_class, max_daily = rng.choice(LEAFLET_DRUGS)
        strength = rng.choice(strengths)
        ctx["drug"], ctx["strength"], ctx["maxdose"] = name, strength, max_daily
        ctx["drug_cap"] = name[0].upper() + name[1:]
        unit = ctx.get("unit", "tablet")
        two_ok = 2 * milligrams(strength) <= milligrams(max_daily)
        tabs = [(f"1 {unit}", f"1 {unit}")]
        if two_ok:
            tabs += [(f"2 {unit}s", f"2 {unit}s"), (f"1-2 {unit}s", f"1 to 2 {unit}s")]
        makers["tabs"] = lambda: rng.choice(tabs)

        def prn() -> tuple[str, str]:
            """Hours between doses and doses a day, within the daily maximum."""
            hours = rng.choice([4, 6, 8])
            counts = [n for n in (2, 3, 4) if n <= 24 // hours
                      and n * milligrams(strength) <= milligrams(max_daily)] or [1]
            return str(hours), str(rng.choice(counts))
        makers["prn"] = prn
        clauses = [(t, p) for t, p, classes in spec["clauses"]
                   if classes is None or drug_class in classes]
        closings = spec["closings"]
    else:
        # A clause or closing may require tags of the opening (no stitches after pneumonia).
        clauses = [c[:2] for c in spec["clauses"] if len(c) < 3 or c[2] <= tags]
        closings = [c[:2] for c in spec["closings"] if len(c) < 3 or c[2] <= tags]
    # Per-clause helper slots that depend on another slot's value.
    analgesic = rng.choice(ANALGESICS)
    abx = rng.choice(ANTIBIOTICS)
    makers["analgesic"] = lambda: analgesic
    makers["abx"] = lambda: abx
    makers["dose"] = lambda: rng.choice(analgesic[1])
    makers["freq"] = lambda: FREQ[rng.choice(analgesic[2])]
    makers["abxdose"] = lambda: rng.choice(abx[1])
    makers["abxfreq"] = lambda: FREQ[rng.choice(abx[2])]

    # Blocks sharing a topic word (two "get an RMA" rules) would repeat each other.
    topics = topic_words(opening[0])
    chosen = []
    for clause in rng.sample(clauses, len(clauses)):
        if topic_words(clause[0]) & topics:
            continue
        chosen.append(clause)
        topics |= topic_words(clause[0])
        if len(chosen) == k:
            break
    k = len(chosen)
    blocks = [opening[:2]] + chosen
    if k < max(CLAUSE_COUNTS) and rng.random() < CLOSING_PROB:
        blocks.append(rng.choice(closings))
    pairs = [fill_pair(rng, t, p, makers, ctx) for t, p in blocks]
    tech = " ".join(t for t, _ in pairs)
    plain = " ".join(p for _, p in pairs)
    tech = tech[0].upper() + tech[1:]
    plain = plain[0].upper() + plain[1:]
    info = {"domain": domain, "clauses": k, "closing": len(blocks) - 1 > k}
    return tech, plain, info


def gold_problems(source: str, rewrite: str) -> list[str]:
    problems = []
    if word_count(rewrite) > MAX_REWRITE_WORDS:
        problems.append(f"rewrite has {word_count(rewrite)} words")
    hit = GOLD_JARGON_RE.search(rewrite)
    if hit:
        problems.append(f"rewrite uses jargon {hit.group(0)!r}")
    missing = numbers(source) - numbers(rewrite)
    if missing:
        problems.append(f"rewrite lacks numbers {sorted(missing)}")
    return problems


# ---------------------------------------------------------------------------
# Near-duplicate index (as in entity_extraction)
# ---------------------------------------------------------------------------
TOKEN_RE = re.compile(r"[a-z0-9]+")


def ngrams(text: str, n: int) -> frozenset:
    tokens = TOKEN_RE.findall(text.lower())
    if len(tokens) < n:
        return frozenset([tuple(tokens)])
    return frozenset(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


class NgramIndex:
    def __init__(self, n: int) -> None:
        self.n = n
        self.sets: list[frozenset] = []
        self.tags: list[str] = []
        self.postings: dict[tuple, list[int]] = defaultdict(list)

    def overlaps(self, sh: frozenset) -> Counter:
        overlap: Counter = Counter()
        for s in sh:
            for idx in self.postings.get(s, ()):
                overlap[idx] += 1
        return overlap

    def max_jaccard(self, sh: frozenset, skip_tag: str | None = None) -> tuple[float, int]:
        best, best_idx = 0.0, -1
        for idx, ov in self.overlaps(sh).items():
            if skip_tag is not None and self.tags[idx] == skip_tag:
                continue
            jac = ov / (len(sh) + len(self.sets[idx]) - ov)
            if jac > best:
                best, best_idx = jac, idx
        return best, best_idx

    def max_containment(self, sh: frozenset) -> float:
        best = 0.0
        for idx, ov in self.overlaps(sh).items():
            best = max(best, ov / len(sh), ov / len(self.sets[idx]))
        return best

    def add(self, text: str, tag: str) -> None:
        sh = ngrams(text, self.n)
        idx = len(self.sets)
        self.sets.append(sh)
        self.tags.append(tag)
        for s in sh:
            self.postings[s].append(idx)


class DedupIndex:
    def __init__(self) -> None:
        self.jac = NgramIndex(SHINGLE)
        self.con = NgramIndex(CONTAIN_NGRAM)
        self.exact: set[str] = set()

    @staticmethod
    def normal(text: str) -> str:
        return " ".join(TOKEN_RE.findall(text.lower()))

    def accepts(self, text: str) -> bool:
        if self.normal(text) in self.exact:
            return False
        if self.jac.max_jaccard(ngrams(text, SHINGLE))[0] >= SIM_THRESHOLD:
            return False
        return self.con.max_containment(ngrams(text, CONTAIN_NGRAM)) < CONTAIN_THRESHOLD

    def add(self, text: str, tag: str) -> None:
        self.jac.add(text, tag)
        self.con.add(text, tag)
        self.exact.add(self.normal(text))


# ---------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------
def domain_quotas(split: str) -> dict[str, int]:
    """Equal shares; the leftover items go to different domains in each split."""
    n = SPLIT_SIZES[split]
    base, extra = divmod(n, len(DOMAIN_ORDER))
    offset = {"train": 0, "validation": 2, "test": 4}[split]
    quotas = {d: base for d in DOMAIN_ORDER}
    for i in range(extra):
        quotas[DOMAIN_ORDER[(offset + i) % len(DOMAIN_ORDER)]] += 1
    return quotas


def build_splits(seed: int) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    rng = random.Random(seed)
    index = DedupIndex()
    splits, meta = {}, {}
    for split in ["test", "validation", "train"]:  # held-out splits first
        drawn = []
        for domain, quota in domain_quotas(split).items():
            for _ in range(quota):
                # Keep the drawn clause count while retrying (long notes fail the word
                # limits more often), falling back to fewer clauses only if it cannot fit.
                k = rng.choices(CLAUSE_COUNTS, weights=CLAUSE_WEIGHTS)[0]
                for attempt in range(MAX_ATTEMPTS):
                    if attempt and attempt % K_FALLBACK == 0 and k > min(CLAUSE_COUNTS):
                        k -= 1
                    source, rewrite, info = make_note(rng, domain, k)
                    lo, hi = SOURCE_WORDS
                    if not lo <= word_count(source) <= hi:
                        continue
                    if word_count(rewrite) > MAX_REWRITE_WORDS:
                        continue
                    problems = gold_problems(source, rewrite)
                    if problems:
                        raise AssertionError(f"{problems}: {source!r} -> {rewrite!r}")
                    if index.accepts(source):
                        break
                else:
                    raise RuntimeError(f"no distinct '{domain}' note in {MAX_ATTEMPTS} tries")
                index.add(source, split)
                drawn.append((source, rewrite, info))
        rng.shuffle(drawn)
        splits[split], meta[split] = [], []
        for n, (source, rewrite, info) in enumerate(drawn, 1):
            splits[split].append({"id": f"{PREFIX}-{split}-{n:05d}", "messages": [
                {"role": "user", "content": source},
                {"role": "assistant", "content": rewrite}]})
            meta[split].append(info)
    order = list(SPLIT_SIZES)
    return {s: splits[s] for s in order}, {s: meta[s] for s in order}


def max_cross_split_similarity(splits: dict[str, list[dict]]) -> tuple[float, str, str]:
    index = NgramIndex(SHINGLE)
    ids = []
    for split, items in splits.items():
        for item in items:
            index.add(item["messages"][0]["content"], split)
            ids.append(item["id"])
    best = (0.0, "", "")
    for idx, (sh, tag) in enumerate(zip(index.sets, index.tags)):
        sim, other = index.max_jaccard(sh, skip_tag=tag)
        if sim > best[0]:
            best = (sim, ids[idx], ids[other])
    return best


def write_jsonl(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")


def print_report(splits: dict[str, list[dict]], meta: dict[str, list[dict]]) -> None:
    names = list(splits)
    print(f"{'':<28}" + "".join(f"{s:>12}" for s in names))
    print(f"{'items':<28}" + "".join(f"{len(splits[s]):>12}" for s in names))
    for d in DOMAIN_ORDER:
        print(f"{'domain ' + d:<28}" + "".join(
            f"{sum(m['domain'] == d for m in meta[s]):>12}" for s in names))
    for k in CLAUSE_COUNTS:
        print(f"{f'{k} clauses':<28}" + "".join(
            f"{sum(m['clauses'] == k for m in meta[s]):>12}" for s in names))
    print(f"{'with closing':<28}" + "".join(
        f"{sum(m['closing'] for m in meta[s]):>12}" for s in names))
    print(f"{'source has listed jargon':<28}" + "".join(
        f"{sum(bool(JARGON_RE.search(i['messages'][0]['content'])) for i in splits[s]):>12}"
        for s in names))
    for s in names:
        src = [word_count(i["messages"][0]["content"]) for i in splits[s]]
        out = [word_count(i["messages"][1]["content"]) for i in splits[s]]
        print(f"{s}: source words mean {sum(src) / len(src):.1f} (min {min(src)}, max "
              f"{max(src)}); rewrite words mean {sum(out) / len(out):.1f} (max {max(out)})")
    used = Counter(m.group(1).lower() for items in splits.values() for i in items
                   for m in JARGON_RE.finditer(i["messages"][0]["content"]))
    print("listed jargon in sources: " + ", ".join(f"{t}={used[t.lower()]}" for t in JARGON))
    sim, a, b = max_cross_split_similarity(splits)
    print(f"max cross-split 5-gram Jaccard: {sim:.3f} ({a} vs {b})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    parser.add_argument("--out", type=Path, default=HERE / "data",
                        help="output folder for train/validation/test.jsonl")
    args = parser.parse_args()

    splits, meta = build_splits(args.seed)
    for items in splits.values():  # re-check as the suite's checker would
        for item in items:
            problems = gold_problems(item["messages"][0]["content"], item["messages"][1]["content"])
            assert not problems, (item["id"], problems)
    for split, items in splits.items():
        write_jsonl(args.out / f"{split}.jsonl", items)
    print_report(splits, meta)


if __name__ == "__main__":
    main()
