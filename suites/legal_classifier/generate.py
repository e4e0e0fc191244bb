#!/usr/bin/env python3
"""Generate the legal_classifier suite: legal text -> contract type.

Every item is a chat pair: the user turn holds a document or part of one (a
whole agreement, clauses cut from the middle, a first page with recitals, an
email or file note, a line or two); the assistant turn is exactly
"contract_type: <code>". Text is assembled from templates with inline
alternatives ("[a|b]") and slots ("{p1}"), so items differ in wording, parties,
places, amounts and dates. Like real documents, most mix clause types: a
services agreement with a confidentiality clause and a licence of its
deliverables, a lease that lends money for the fit-out, a settlement that keeps
an earlier NDA alive. The type's own clauses always outnumber the borrowed ones,
and the label is the type of the whole document, decided by its main purpose.
Some items say what the document is not ("this is not a lease"), some are
paraphrased without the type's signature words, some look scanned (OCR
confusions, broken line wraps, page headers). Hand-written hard cases from
hard_cases.jsonl are mixed into the splits.

Standard library only; the same --seed always gives byte-identical files.

    python suites/legal_classifier/generate.py [--seed 13] [--out DIR]
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import random
import re
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
HARD_CASES_PATH = HERE / "hard_cases.jsonl"

LABELS = ["nda", "employment", "lease", "loan", "services",
          "sale_of_goods", "software_license", "settlement"]
SPLIT_SIZES = {"train": 640, "validation": 100, "test": 300}
SPLIT_PREFIX = {"train": "lc-train", "validation": "lc-validation", "test": "lc-test"}
# Which labels receive the leftover items when a split does not divide by 8:
# test gives them to the first four labels, validation to the last four, so
# no class is the larger one in both held-out splits.
EXTRA_OFFSET = {"train": 0, "validation": 4, "test": 0}

# Hard cases are listed per label in the file; the i-th hard case of a label
# goes to HARD_CYCLE[i % 8]. That sends 4 of 8 to test, 2 to validation and
# 2 to train, so the held-out splits carry most of the difficult items.
HARD_CYCLE = ["test", "validation", "test", "train",
              "test", "validation", "train", "test"]

MAX_WORDS = 240          # a 135M model on 2 CPU cores: the whole chat must fit max_length 512
# The same bound in tokens, estimated without a tokenizer (token_estimate below).
# SmolLM2's tokenizer spends about 1.7 tokens per word on this text (digits are
# single tokens; names and OCR errors split further); the system prompt, chat
# template and answer take 119. On the seed-13 files the estimate undercounted
# by at most 29 tokens, so 360 keeps every chat under 512 (the longest is 479).
MAX_TOKENS_EST = 360
MIN_WORDS = 6
SIM_THRESHOLD = 0.5      # 5-gram shingle Jaccard at or above this is a near-duplicate
CONTAINMENT_THRESHOLD = 0.7  # share of a text's 3-grams inside an item of another split: leakage
SHINGLE = 5
MAX_ATTEMPTS = 3000      # per item; running out means the templates lack variety

# Share of each input form. Most items are whole agreements or several clauses
# cut from one, as in a real document store; emails, first pages and short
# extracts keep some variety. Chosen so the mean length lands near 130 words.
FORM_WEIGHTS = [
    ("document", 36), ("excerpt", 24), ("opening", 12), ("email", 16), ("short", 7),
    ("boiler", 5),
]
PLAIN_SHARE = 0.3        # items paraphrased: neutral title and party names, own wording
OCR_SHARE = 0.25         # items that look scanned: confusions, wraps, page headers

# ---------------------------------------------------------------------------
# Shared pools: parties, places, dates, money
# ---------------------------------------------------------------------------
FIRST_NAMES = [
    "Amelia", "Rahul", "Sofia", "Daniel", "Priya", "Marcus", "Elena", "Kwame",
    "Hannah", "Luis", "Mei", "Tobias", "Fatima", "Oliver", "Ingrid", "Diego",
    "Aisha", "Connor", "Yuki", "Grace", "Mateo", "Leila", "Samuel", "Nadia",
    "Victor", "Chloe", "Ibrahim", "Zoe", "Anders", "Rosa", "Kenji", "Bridget",
]
LAST_NAMES = [
    "Okafor", "Lindqvist", "Moreno", "Patel", "Whitaker", "Nakamura", "Brennan",
    "Haddad", "Kowalski", "Ferreira", "O'Neill", "Schmidt", "Abernathy",
    "Delacroix", "Mensah", "Rossi", "Gupta", "Thornton", "Varga", "Castillo",
    "Fitzgerald", "Hwang", "Novak", "Sato", "Adeyemi", "McAllister", "Petrov",
    "Dubois", "Ellison", "Quinn", "Baptiste", "Kaur",
]
# Company names deliberately include words such as "Software", "Capital" or
# "Properties": real party names often collide with another type's keywords.
CO_PREFIX = [
    "Bluestone", "Northwind", "Harborview", "Redwood", "Silverline", "Crescent",
    "Ironbridge", "Oakmont", "Summit", "Brightwater", "Granite Peak", "Lakeshore",
    "Meridian", "Pinecrest", "Cobalt", "Falcon", "Evergreen", "Sterling",
    "Westbrook", "Aurora", "Copperfield", "Highland", "Riverbend", "Tidewater",
    "Vantage", "Juniper", "Keystone", "Orion", "Saffron", "Beacon", "Kestrel",
    "Marlow", "Alder", "Quarry Hill",
]
CO_CORE = [
    "Logistics", "Analytics", "Foods", "Holdings", "Manufacturing", "Health",
    "Media", "Capital", "Systems", "Properties", "Energy", "Robotics", "Retail",
    "Labs", "Partners", "Construction", "Textiles", "Pharma", "Design",
    "Networks", "Hospitality", "Motors", "Software", "Consulting", "Supply",
    "Agritech", "Finance", "Studios", "Marine", "Ventures", "Dental", "Brewing",
]
CO_SUFFIX = ["LLC", "Inc.", "Ltd", "Limited", "Corp.", "GmbH", "Pty Ltd", "LLP",
             "S.A.", "plc", "Co."]
COMPANY_DESCS = [
    "a Delaware corporation", "a New York limited liability company",
    "a company incorporated in England and Wales", "an Ontario corporation",
    "a Texas limited partnership", "a California corporation",
    "a company registered in Ireland", "a Singapore private limited company",
    "an Australian proprietary company", "a Washington corporation",
    "a Florida limited liability company", "a Scottish limited company",
    "a British Columbia company", "a Massachusetts corporation",
]
# (governing law, courts) pairs so the two stay consistent inside one item.
JURISDICTIONS = [
    ("the State of New York", "New York County"),
    ("the State of Delaware", "Wilmington, Delaware"),
    ("the State of California", "San Francisco County"),
    ("the State of Texas", "Travis County, Texas"),
    ("England and Wales", "London"),
    ("the Province of Ontario", "Toronto"),
    ("the State of Illinois", "Cook County, Illinois"),
    ("Scotland", "Edinburgh"),
    ("Ireland", "Dublin"),
    ("the Republic of Singapore", "Singapore"),
    ("the State of New South Wales", "Sydney"),
    ("the Commonwealth of Massachusetts", "Boston"),
    ("the State of Washington", "King County, Washington"),
    ("the Province of British Columbia", "Vancouver"),
    ("the State of Florida", "Miami-Dade County"),
    ("the State of Victoria", "Melbourne"),
    ("the State of Georgia", "Atlanta"),
    ("Northern Ireland", "Belfast"),
    ("the State of Colorado", "Denver"),
    ("the Province of Alberta", "Calgary"),
]
CITIES = [
    "New York", "Wilmington", "San Francisco", "Austin", "London", "Toronto",
    "Chicago", "Edinburgh", "Dublin", "Singapore", "Sydney", "Boston", "Seattle",
    "Vancouver", "Miami", "Melbourne", "Atlanta", "Belfast", "Denver",
    "Manchester", "Calgary", "Phoenix", "Leeds", "Auckland", "Rotterdam",
    "Bristol", "Houston", "Perth",
]
STREETS = [
    "Elm Street", "Harbor Road", "King Street West", "Market Street",
    "Queen's Avenue", "Maple Drive", "Commerce Way", "Station Road",
    "Riverside Parkway", "Pine Avenue", "High Street", "Industrial Boulevard",
    "Cedar Lane", "Bay Street", "Mill Road", "Victoria Street",
    "Lakeview Terrace", "Union Square", "Greenway Court", "Oak Hollow Road",
    "Wharf Street", "Chapel Lane", "Granville Street", "Burnside Avenue",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
CURRENCIES = ["$", "$", "£", "€", "US$", "C$", "A$", "USD ", "GBP ", "EUR "]
NOTICES = ["thirty (30) days'", "sixty (60) days'", "two weeks'", "one month's",
           "90 days'", "fourteen (14) days'", "three months'",
           "ten (10) business days'", "six weeks'", "45 days'"]
TERMS = ["twelve (12) months", "one (1) year", "two (2) years", "three years",
         "six months", "eighteen (18) months", "five (5) years", "24 months",
         "36 months", "an initial period of one year", "nine months"]
YEARS = ["two (2) years", "three (3) years", "five years", "a period of four (4) years",
         "24 months", "seven years", "eighteen months", "three years"]
SMALL_DAYS = ["5", "7", "10", "14", "15", "21", "30", "45", "60", "90"]
SMALL_COUNTS = ["2", "3", "4", "6", "8", "10", "12"]

# ---------------------------------------------------------------------------
# Label-specific slot pools
# ---------------------------------------------------------------------------
DEALS = [
    "potential joint venture", "proposed business combination",
    "possible supply relationship", "technology partnership",
    "potential acquisition", "prospective distribution arrangement",
    "co-development project", "possible equity investment", "proposed financing",
    "potential licensing arrangement", "possible consulting engagement",
    "strategic collaboration", "potential merger", "proposed reseller arrangement",
    "pilot programme", "possible real estate transaction",
]
INFO_TERMS = ["Confidential Information", "Proprietary Information",
              "Evaluation Material", "Protected Information",
              "Confidential Material", "Secret Information", "Disclosed Information"]
INFO_EXAMPLES = [
    "customer lists, pricing and product roadmaps",
    "source code, algorithms and system designs",
    "financial statements, forecasts and business plans",
    "formulas, recipes and supplier terms",
    "clinical data and regulatory filings",
    "manufacturing processes and engineering drawings",
    "marketing strategies and sales data",
    "know-how, prototypes and test results",
    "employee data and compensation structures",
    "tenant rolls and building plans",
]
JOBS = ["Senior Accountant", "Software Engineer", "Operations Manager",
        "Marketing Coordinator", "Warehouse Supervisor", "Registered Nurse",
        "Sales Director", "Chief Financial Officer", "Data Analyst",
        "Project Manager", "Legal Counsel", "Customer Success Lead",
        "Head Chef", "Lab Technician", "HR Business Partner", "Store Manager",
        "Quality Assurance Engineer", "Executive Assistant"]
BOSSES = ["Chief Executive Officer", "Head of Finance", "VP of Engineering",
          "Operations Director", "General Counsel", "Regional Sales Manager",
          "Managing Director", "Head of People", "Chief Operating Officer",
          "department head"]
PAY_FREQ = ["monthly", "semi-monthly", "bi-weekly", "every two weeks",
            "in twelve equal monthly instalments"]
PREMISES_KINDS = ["apartment", "office suite", "retail unit", "warehouse",
                  "single-family house", "ground-floor shop", "studio flat",
                  "industrial unit", "restaurant space", "two-bedroom condominium",
                  "medical office", "townhouse", "mews house",
                  "co-working floor"]
PREMISES_TERMS = ["Premises", "Property", "Unit", "Leased Premises",
                  "Demised Premises", "Space"]
USES = ["a private residence", "general office purposes",
        "the retail sale of clothing", "light manufacturing and storage",
        "a dental clinic", "a cafe and bakery", "a yoga studio",
        "a single-family home", "warehousing and distribution",
        "a hair salon", "a veterinary practice"]
LOAN_PURPOSES = ["working capital", "the purchase of new equipment",
                 "the acquisition of inventory",
                 "renovation of the borrower's restaurant",
                 "refinancing of existing indebtedness",
                 "tuition and living expenses",
                 "the purchase of a delivery vehicle",
                 "general corporate purposes", "construction of a warehouse",
                 "the fit-out of leased premises", "a home extension"]
COLLATERAL = ["all of the Borrower's inventory, equipment and accounts",
              "the delivery truck described in Schedule A",
              "the commercial building described in the Mortgage",
              "a pledge of all shares in its operating subsidiary",
              "the Borrower's deposit accounts",
              "the fishing vessel registered as Sea Lark",
              "the equipment listed in Schedule B",
              "the Borrower's receivables and contract rights",
              "the residential property at the Borrower's address"]
SERVICES_KINDS = ["IT consulting", "payroll processing", "janitorial",
                  "digital marketing", "bookkeeping", "architectural design",
                  "recruitment", "data migration", "security guard",
                  "translation", "website design", "logistics management",
                  "facilities maintenance", "staff training",
                  "cybersecurity assessment", "event management",
                  "landscaping", "tax advisory"]
DELIVERABLES = ["a written assessment report", "a redesigned website",
                "monthly bookkeeping reports", "a data migration plan",
                "training materials for 40 staff",
                "architectural drawings for the new clinic",
                "a cleaned and validated customer database",
                "a social media campaign", "a penetration test report",
                "a shortlist of five qualified candidates",
                "a quarterly tax compliance pack"]
GOODS = ["industrial pumps", "office furniture", "frozen seafood",
         "cold-rolled steel coils", "nitrile medical gloves", "laptop computers",
         "solar panels", "printed packaging", "certified seed potatoes",
         "hydraulic spare parts", "LED light fixtures", "green coffee beans",
         "a used forklift truck", "hand sanitiser", "cotton textile fabric",
         "commercial ovens", "safety helmets", "bottled mineral water"]
INCOTERMS = ["FOB", "CIF", "DAP", "EXW", "FCA", "DDP", "CPT"]
WARRANTIES = ["twelve (12) months", "24 months", "one year", "90 days",
              "eighteen months", "two years", "six months"]
PRODUCT_A = ["Ledger", "Cloud", "Route", "Data", "Clinic", "Pay", "Stock",
             "Field", "Shift", "Doc", "Fleet", "Grade", "Menu", "Tax", "Vault",
             "Signal", "Plan", "Harbor", "Quill", "Trace"]
PRODUCT_B = ["Lite", "Keep", "Master", "Forge", "Flow", "Pilot", "Sync", "Desk",
             "Track", "Hub", "Sense", "Works", "Point", "Bridge", "Ware", "Base"]
PLATFORMS = ["accounting platform", "scheduling application",
             "document management system", "fleet tracking tool",
             "practice management suite", "inventory application",
             "analytics dashboard", "point-of-sale system",
             "learning management system", "design tool"]
SUB_TERMS = ["Subscription Term", "initial term of one year",
             "Licence Term", "three-year term", "License Term",
             "twelve-month subscription period"]
# Disputes that only an individual (ex-)employee can bring.
EMPLOYMENT_DISPUTES = [
    "the claim for wrongful dismissal", "the claim for unpaid overtime wages",
    "the unfair dismissal claim", "the claim for unpaid commission and bonus",
]
DISPUTES = EMPLOYMENT_DISPUTES + [
    "the dispute over unpaid invoices for consulting work",
    "the claims arising from the tenancy of the warehouse",
    "the action for breach of the supply contract",
    "the alleged infringement of copyright in the licensed software",
    "the alleged default under the promissory note",
    "the personal injury claim arising from the accident on the loading dock",
    "the construction defect claims",
    "the product liability claim",
    "the dispute over the return of the security deposit",
    "the trademark opposition proceedings",
    "the partnership dissolution dispute",
    "the insurance coverage dispute",
    "the alleged misappropriation of trade secrets",
    "the billing dispute over the 2023 service fees",
    "the boundary dispute between the neighbouring properties",
    "the alleged breach of the non-disclosure agreement",
]
COURTS = [
    "the Superior Court of California, County of Los Angeles",
    "the High Court of Justice, Business and Property Courts",
    "the United States District Court for the Southern District of New York",
    "the Ontario Superior Court of Justice",
    "the Circuit Court of Cook County",
    "the Federal Court of Australia",
    "the District Court of Harris County, Texas",
    "the Employment Tribunal",
    "the County Court at Manchester",
    "the Supreme Court of British Columbia",
]

# ---------------------------------------------------------------------------
# Clauses common to many contract types. They carry the label only through
# the role names, {doc} and {subject}, which is what makes them hard.
# ---------------------------------------------------------------------------
SHARED_CLAUSES = {
    "Governing Law": (
        "[{Doc} and any dispute arising out of or in connection with {subject}|{Doc}, "
        "including all matters relating to {subject},|All questions concerning {subject} "
        "under {doc}] [shall be|are] governed by [and construed in accordance with|] the "
        "laws of {law}[, without regard to its conflict of laws principles|]. [The courts "
        "of {venue} shall have exclusive jurisdiction|Each of {A} and {B} submits to the "
        "[exclusive|non-exclusive] jurisdiction of the courts of {venue}|Any action "
        "concerning {subject} shall be brought only in {venue}]."),
    "Notices": (
        "Any notice [given under|relating to] {doc} [must|shall] be in writing and "
        "[delivered by hand, by courier or by email|sent by registered mail or email] "
        "to {A} at {address} and to {B} at {address2}[, or such other address as a party "
        "may designate by notice|]. [Notices concerning {subject} shall be marked for the "
        "attention of {first} {last}.|]"),
    "Termination": (
        "[Either party|{A} or {B}] may terminate {doc} [by written notice|on {notice} "
        "written notice] if the other [party|] commits a material breach [of {doc}|] and "
        "fails to remedy it within {n} days [after receiving notice of the breach|of "
        "written notice]. [Termination shall not affect any rights accrued in respect of "
        "{subject}.|On termination, all provisions relating to {subject} that by their "
        "nature should survive shall survive.]"),
    "Confidentiality": (
        "[Each of {A} and {B}|{B}] shall keep [confidential|in strict confidence] [the "
        "terms of {doc} and all information about {subject}|all Confidential Information "
        "of the other party relating to {subject}|any non-public information it receives "
        "in connection with {subject}] and shall not disclose it [to any third "
        "party|to anyone] except [to its professional advisers|as required by law|with the "
        "prior written consent of the other party]. [This obligation survives for {years} "
        "after {doc} ends.|This clause survives termination.|]"),
    "Indemnity": (
        "{B} shall indemnify[, defend|] and hold harmless {A} [and its officers, directors "
        "and employees|and its affiliates|] from and against all [claims, losses, damages "
        "and expenses|liabilities, costs and reasonable legal fees] arising out of [{B}'s "
        "breach of {doc}|any negligent act or omission of {B} in connection with "
        "{subject}|any third-party claim relating to {subject}]."),
    "Entire Agreement": (
        "{Doc} [constitutes|sets out] the entire agreement between {A} and {B} [with "
        "respect to|regarding] {subject} and supersedes all prior [negotiations, "
        "representations and understandings|discussions and agreements, whether written "
        "or oral]. [No amendment is effective unless in writing and signed by both "
        "parties.|It may be amended only by a written instrument signed by both parties.|]"),
    "Assignment": (
        "[Neither party|Neither {A} nor {B}] may assign or transfer {doc} or any rights "
        "[in respect of|relating to] {subject} without the prior written consent of the "
        "other[ party|], [which shall not be unreasonably withheld|except to a successor "
        "to all or substantially all of its business|and any purported assignment in "
        "breach of this clause is void]."),
    "Limitation of Liability": (
        "[Except for breaches of confidentiality or indemnity obligations, neither|Neither] "
        "party shall be liable for any indirect, incidental or consequential [loss|damages] "
        "arising [out of|in connection with] {subject}, and [the aggregate liability of "
        "{A}|each party's total liability] under {doc} shall not exceed {cap}."),
    "Force Majeure": (
        "[Neither {A} nor {B}|Neither party] shall be liable for [any delay or failure|"
        "failure or delay] in performing its obligations [relating to {subject}|under "
        "{doc} in respect of {subject}] caused by events beyond its reasonable control, "
        "including [fire, flood, "
        "epidemic, war or strike|natural disasters, pandemics, government action or labour "
        "disputes][, provided that it notifies the other party promptly|]. [This clause "
        "does not excuse any payment obligation.|]"),
    "Dispute Resolution": (
        "Any dispute [between {A} and {B}|arising under {doc}] [concerning|relating to] "
        "{subject} shall first be referred to [senior management|the parties' designated "
        "representatives] for [good-faith negotiation|resolution] and, [failing "
        "resolution|if unresolved] within {n} days, to [binding arbitration in {venue}|"
        "mediation in {venue}|the courts of {venue}]."),
}

# ---------------------------------------------------------------------------
# Per-label specifications. Each has: titles, role pairs (A = the party that
# discloses / employs / lets / lends / is served by... B = the other), doc
# names, subjects (what the shared clauses talk about), purpose statements,
# recitals, label clauses (heading, body), summaries (emails, notes) and
# one-liners. Some label clauses deliberately borrow another type's words
# (a consultant's "licence" to pre-existing tools, "firmware" sold with goods).
# ---------------------------------------------------------------------------
SPECS: dict[str, dict] = {}

SPECS["nda"] = {
    "titles": ["Mutual Non-Disclosure Agreement", "Non-Disclosure Agreement",
               "Confidentiality Agreement", "Mutual Confidentiality Agreement",
               "Confidentiality and Non-Use Agreement", "Unilateral Non-Disclosure Agreement",
               "Confidential Disclosure Agreement", "Proprietary Information Agreement",
               "Secrecy Agreement", "Evaluation and Confidentiality Agreement"],
    "roles": [("Disclosing Party", "Receiving Party"), ("Discloser", "Recipient"),
              ("Company", "Recipient"), ("Owner", "Recipient"),
              ("Disclosing Party", "Recipient"), ("Provider", "Receiving Party")],
    "docs": ["this Agreement", "this NDA", "this Confidentiality Agreement", "this Agreement"],
    "subjects": ["the {info}", "the {deal}", "the disclosed information",
                 "the evaluation of the {deal}", "any {info}"],
    "persons": (0.0, 0.2),
    "shared": ["Governing Law", "Notices", "Entire Agreement", "Assignment",
               "Termination", "Dispute Resolution"],
    "purpose": [
        "{p1} and {p2} [are considering|wish to explore|intend to evaluate] a {deal} and, "
        "[in connection with|for the purpose of] [those discussions|that evaluation], "
        "[may|expect to] disclose [to each other|to one another] certain [non-public|"
        "confidential|proprietary] [business and technical|commercial] information.",
        "The purpose of {doc} is to protect [the {info}|information] that {A} discloses to "
        "{B} [in connection with|while the parties evaluate] a {deal}, and to [limit how {B} "
        "may use it|restrict its use and disclosure].",
        "{B} [agrees|undertakes] to hold all {info} [received from|disclosed by] {A} in "
        "[strict confidence|trust and confidence] and to use it only to evaluate the {deal}.",
        "In consideration of [receiving|being given access to] the {info}, {B} agrees to "
        "the [restrictions on use and disclosure|confidentiality obligations] set out below.",
        "[Each party|The parties] will [share|exchange] {examples} [solely|only] so that "
        "[they|both sides] can [assess|evaluate] a {deal}, and [each agrees|both agree] to "
        "keep what [it learns|they receive] secret.",
    ],
    "recitals": [
        "{p1} [possesses|has developed] [valuable|certain] {examples} that it regards as "
        "[confidential|proprietary]",
        "{p2} wishes to receive [such|certain of that] information [in order to evaluate|"
        "solely to assess] a {deal} with {p1}",
        "{p1} is willing to disclose [such|that] information [only|solely] on the [terms|"
        "condition] that {p2} [keeps it confidential|protects it] as [set out|provided] "
        "[below|in this Agreement]",
        "the parties [wish|desire] to [record|set out] the terms on which [information|"
        "{info}] will be [exchanged|shared] during [their discussions|the evaluation period]",
    ],
    "clauses": [
        ("Definition", "\"{info}\" means [all|any] [information|data], [whether written, "
         "oral or electronic|in any form], [disclosed|made available] by {A} to {B} [in "
         "connection with the {deal}|on or after {date}], including {examples}[, whether or "
         "not marked as confidential|]."),
        ("Use Restriction", "{B} shall use the {info} [solely|only] for the purpose of "
         "[evaluating|assessing] the {deal} and shall not use it [to compete with {A}|for "
         "its own commercial benefit|to develop competing products]."),
        ("Non-Disclosure", "{B} shall not disclose [any|the] {info} to any [third party|"
         "person] other than [its|those of its] [directors, employees and professional "
         "advisers|representatives] who need to know it for the {deal} and who are bound by "
         "[written|] obligations of confidentiality no less [protective|strict] than those "
         "in {doc}."),
        ("Exclusions", "The obligations in {doc} do not apply to information that [is or "
         "becomes generally available to the public|enters the public domain] [other than "
         "through|without] a breach by {B}, [was lawfully in {B}'s possession before "
         "disclosure|was already known to {B} without restriction], [or is independently "
         "developed by {B} without use of the {info}|or is received from a third party "
         "entitled to disclose it]."),
        ("Compelled Disclosure", "If {B} [is required|becomes legally compelled] by law, "
         "regulation or court order to disclose any {info}, it shall[, to the extent "
         "lawful,|] give {A} prompt written notice [so that {A} may seek a protective order|"
         "and disclose only the portion legally required]."),
        ("Return of Materials", "[Upon|Within {n} days after] {A}'s written request[, or on "
         "termination of discussions about the {deal}|], {B} shall [promptly|] return or "
         "destroy all [documents and copies containing|materials embodying] {info} and "
         "[certify such destruction in writing|confirm in writing that it has done so]."),
        ("Term", "[The obligations of confidentiality|{B}'s obligations under {doc}] shall "
         "[continue|survive] for {years} [after|from] the [date of the last disclosure|"
         "Effective Date][, except that obligations relating to trade secrets shall last "
         "for as long as the information remains a trade secret|]."),
        ("No Obligation", "[Nothing in {doc} obliges|{Doc} does not oblige] either party to "
         "[proceed with|enter into] the {deal}[, and either party may end discussions at any "
         "time|]. No [licence|license] or other right [under any patent, copyright or trade "
         "secret|in the {info}] is granted [by implication or otherwise|except as expressly "
         "stated]."),
        ("Remedies", "{B} acknowledges that [unauthorised|any] disclosure of the {info} "
         "[may|would] cause {A} irreparable harm for which damages [would not be|are not] an "
         "adequate remedy, and that {A} [is|shall be] entitled to seek [injunctive relief|an "
         "injunction and specific performance] [without posting a bond|in addition to any "
         "other remedy]."),
        ("Non-Solicitation", "For {years} [after|from] the date of {doc}, {B} shall not "
         "[solicit for employment|hire or attempt to hire] any employee of {A} with whom it "
         "[had contact|came into contact] [during the evaluation of the {deal}|through the "
         "{deal}]."),
        ("Standard of Care", "{B} shall protect the {info} [using at least the same degree "
         "of care it uses for its own confidential information|with no less than reasonable "
         "care][, and shall promptly notify {A} of any unauthorised use or disclosure|]."),
    ],
    "summaries": [
        "Subject: NDA [for|re] [{p1}|the {deal}]\n\nHi {first},\n\nBefore [we share|{p1} "
        "shares] [the data room|any {examples}|our numbers] [for|on] the {deal}, [legal "
        "needs|we need] {p2} to sign the attached [mutual|one-way|] [NDA|non-disclosure "
        "agreement|confidentiality agreement]. [It runs for {years}|Obligations last {years}] "
        "and [covers|protects] [{examples}|everything we disclose].\n\n[Thanks|Best],\n{first2}",
        "[Summary|Note to file]: [Two-way|One-way|Mutual] [confidentiality|non-disclosure] "
        "agreement between {p1} and {p2} dated {date}. [Covers|Protects] {examples} "
        "[exchanged|shared] while the parties [evaluate|discuss] a {deal}. [Term|Survival]: "
        "{years}. [Return or destroy on request.|Standard carve-outs for public "
        "information.|Governed by the laws of {law}.]",
        "[Hi|Hello] {first} - [quick one|just a heads-up]: the [document|draft] {p2} sent "
        "over is [basically|just] a [standard|fairly standard] [NDA|confidentiality "
        "agreement]. It [only|simply] [restricts us from using or disclosing|says we must "
        "keep secret] [their|the] {examples} [except to evaluate|outside of] the {deal}. "
        "[No commitment to go ahead.|Nothing obliges us to do the deal.] [OK to sign?|Can "
        "you sign today?]",
        "Please [review|countersign] the [NDA|confidentiality undertaking] with {p1}. "
        "[They|{p1}] will [disclose|share] {examples} [for|to support] the {deal}; we [agree|"
        "must agree] [not to use them for anything else|to keep everything confidential for "
        "{years}][ and to destroy copies when talks end|].",
        "Client memo: {p2} [has been asked|wants us] to [sign|agree to] a [confidentiality "
        "agreement|non-disclosure agreement] [before|ahead of] [due diligence|the first "
        "management meeting] on the {deal}. [Key points|Main terms]: {years} term, "
        "[non-solicit of employees|return of materials on request], [injunctive relief|"
        "carve-out for compelled disclosure].",
    ],
    "oneliners": [
        "{B} [shall not disclose|will keep confidential] the {info} [received from {A}|"
        "provided by {p1}] and [will|shall] use it only to evaluate the {deal}.",
        "This [mutual NDA|non-disclosure agreement|confidentiality agreement] protects "
        "{examples} [exchanged|shared] between {p1} and {p2} [during|while they consider] "
        "a {deal}.",
        "[Each party agrees|Both parties agree] to keep the other's {examples} [secret|"
        "confidential] for {years} [while|as] they explore a {deal}.",
        "The [Recipient|recipient] must [return or destroy|give back or delete] all {info} "
        "[when|if] the {deal} [does not proceed|talks end].",
    ],
}

SPECS["employment"] = {
    "titles": ["Employment Agreement", "Executive Employment Agreement",
               "Contract of Employment", "Employment Contract",
               "Statement of Main Terms of Employment", "Fixed-Term Employment Contract",
               "Part-Time Employment Agreement", "Offer Letter",
               "Employment Letter", "Employment Offer and Agreement"],
    "roles": [("Employer", "Employee"), ("Company", "Employee"), ("Company", "Executive"),
              ("Employer", "Worker"), ("Company", "Staff Member"),
              ("Hospital", "Employee"), ("Employer", "Team Member")],
    "docs": ["this Agreement", "this Contract", "this contract of employment", "this Agreement"],
    "subjects": ["{B}'s employment", "the employment", "the position of {job}",
                 "{B}'s duties", "the role"],
    "persons": (0.0, 1.0),
    "shared": ["Governing Law", "Notices", "Confidentiality", "Entire Agreement",
               "Assignment", "Dispute Resolution"],
    "purpose": [
        "{A} [agrees to employ|hereby employs|offers to employ] {B} [in the position of|as] "
        "{job}, and {B} [accepts such employment|agrees to serve in that role], [on the "
        "terms set out below|subject to the terms of {doc}], [with effect from|commencing "
        "on] {date}.",
        "[This document|{Doc}] [sets out|records] the [terms and conditions|main terms] on "
        "which {p2} is employed by {p1} as {job}[, reporting to the {boss}|].",
        "{B} [will|shall] [work|be employed] [full time|on a part-time basis of {pt_hours} "
        "hours per week] as {job} [at|from] {A}'s [office|site] in {city} and [receive|earn] "
        "a [salary|gross annual salary] of {salary}[, paid {payfreq}|].",
        "The [employment|appointment] of {B} [begins|starts] on {date} and [continues "
        "until terminated|is for a fixed term ending on {date2}] in accordance with [the "
        "notice provisions below|{doc}].",
    ],
    "recitals": [
        "{p1} [wishes|desires] to employ {p2} as {job}",
        "{p2} [has the skills and experience|is qualified] to [perform the duties|fill the "
        "role] of {job} and wishes to accept employment with {p1}",
        "the parties wish to [set out|record] the terms [and conditions|] of {p2}'s "
        "employment, including [salary, benefits and notice|compensation and duties]",
        "{p1} has offered {p2} [the position|a role] of {job} [reporting to its {boss}|in "
        "its {city} office][ and {p2} has accepted that offer|]",
    ],
    "clauses": [
        ("Position and Duties", "{B} [is employed|shall serve] as {job}[, reporting to the "
         "{boss}|] and shall [perform|carry out] [such duties as are customarily associated "
         "with that position|the duties reasonably assigned by {A} from time to time]. {B} "
         "shall devote [substantially all of|] [his or her|their] [working time and "
         "attention|full business time] to {A}'s business."),
        ("Compensation", "{A} shall pay {B} a [base salary|gross annual salary] of {salary}"
         "[ per year|], [payable {payfreq}|paid in arrears {payfreq}] [through {A}'s regular "
         "payroll|] [and subject to applicable tax withholdings|less statutory deductions]. "
         "[The salary will be reviewed annually.|]"),
        ("Working Hours", "{B}'s normal hours of work are {hours} hours per week[, Monday "
         "to Friday|], [between 9:00 and 17:30|on a schedule agreed with the {boss}]. [{B} "
         "may be required to work additional hours as reasonably necessary without extra "
         "pay.|Overtime will be paid at one and a half times the hourly rate.]"),
        ("Benefits", "{B} [is eligible|shall be entitled] to participate in [{A}'s|the] "
         "[group health, dental and vision plans|pension scheme and life assurance] [on the "
         "same terms as other employees|subject to plan rules] and [accrues|is entitled to] "
         "{vacation} days of paid [vacation|annual leave] per [year|holiday year][ in "
         "addition to public holidays|]."),
        ("Probationary Period", "The first {probation} months of employment [are|"
         "constitute] a probationary period[, during which {B}'s performance will be "
         "reviewed|]. During [probation|that period] either party may [end|terminate] the "
         "employment on {short_notice} notice."),
        ("Termination of Employment", "[After the probationary period, either|Either] party "
         "may terminate [{B}'s employment|the employment] by giving [the other|] {notice} "
         "written notice. {A} may [instead pay {B} salary in lieu of notice|place {B} on "
         "garden leave during the notice period][ and may dismiss {B} summarily for gross "
         "misconduct|]."),
        ("At-Will Employment", "{B}'s employment [with {A}|] is \"at will\", meaning that "
         "either {B} or {A} may [end|terminate] it at any time, with or without cause or "
         "notice. [Nothing in {doc} creates a contract for a definite term.|]"),
        ("Restrictive Covenants", "For {covenant} [after|following] the termination of "
         "employment, {B} shall not[, directly or indirectly,|] [work for|be employed by or "
         "provide services to] any competitor of {A} within {radius}[, nor solicit {A}'s "
         "customers or staff|]."),
        ("Bonus and Equity", "{B} [is eligible for|may receive] an annual [discretionary|"
         "performance] bonus of up to {pct} of base salary[, based on individual and company "
         "performance|]. [Subject to board approval, {B} will be granted options to purchase "
         "{shares} shares, vesting over four years.|]"),
        ("Inventions", "All inventions, works and [developments|improvements] [made|created] "
         "by {B} [in the course of employment|while employed by {A}] [are|shall be] the "
         "[exclusive|sole] property of {A}, and {B} [shall sign|agrees to execute] any "
         "documents needed to [confirm|perfect] {A}'s ownership."),
        ("Place of Work", "{B}'s [principal|normal] place of work is {A}'s [office|facility] "
         "at {address}[. {B} may work remotely up to {remote} days per week with the {boss}'s "
         "approval|. {B} may be required to travel for business]."),
        ("Sick Leave", "{B} [shall notify|must inform] the {boss} [by 10 a.m. on the first "
         "day|as soon as possible] of any absence due to illness[ and provide a medical "
         "certificate for absences over [five|seven] days|]. [{A} will pay full salary for up to "
         "{sickdays} days of sickness per year.|Statutory sick pay applies.]"),
    ],
    "summaries": [
        "Dear {first},\n\n[We are pleased|I am delighted] to offer you [the position|"
        "employment] [of|as] {job} [at|with] {p1}[, starting {date}|]. Your [starting|annual] "
        "salary will be {salary}, [paid|payable] {payfreq}, and you will be eligible for "
        "[our benefits programme|health insurance and {vacation} days of paid leave]. [This "
        "offer is contingent on a background check.|Please sign and return this letter "
        "within [five|seven|ten] days.]\n\n[Sincerely|Kind regards],\n{first2} {last}, "
        "[HR Manager|Head of People]",
        "Subject: [New hire|Onboarding] - {first} {last}\n\n[Hi|Hello] team, {first} [has "
        "signed|signed] [the|their] [employment contract|offer] and [starts|will start] as "
        "{job} on {date}. [Salary {salary}|Base pay is {salary}], [{probation}-month "
        "probation|{notice} notice period]. [Please set up payroll and benefits.|HR will send "
        "the handbook.]",
        "[Summary|HR note]: [Permanent|Fixed-term|Full-time|Part-time] [employment contract|"
        "contract of employment] between {p1} and {p2} ({job}). [Salary|Pay]: {salary}. "
        "[Leave|Holiday]: {vacation} days. [Notice|Termination]: {notice}. [Includes a "
        "{covenant} non-compete.|Includes an invention assignment clause.|]",
        "[Could you|Can you] [look over|review] the [employment agreement|contract] for our "
        "new {job}? [It has|It includes] [a {covenant} non-compete|a {probation}-month "
        "probation period] and [a bonus of up to {pct}|{vacation} days of leave]; [I want to "
        "be sure it is enforceable in {law}|I am not sure about the notice period].",
    ],
    "oneliners": [
        "{p2} [is hired|will be employed] as {job} at a salary of {salary} [starting|from] "
        "{date}.",
        "{B} shall [report to|work under] the {boss} and [devote full working time|work "
        "{hours} hours per week] to {A}'s business.",
        "[Either party may end the employment|The employment may be ended by either side] on "
        "{notice} notice[, subject to a {probation}-month probation|].",
        "You will [be entitled to|receive] {vacation} days of paid leave and [may "
        "participate in the company pension|may enrol in our health plan] from your first "
        "day as {job}.",
    ],
}

SPECS["lease"] = {
    "titles": ["Residential Lease Agreement", "Commercial Lease", "Office Lease Agreement",
               "Tenancy Agreement", "Rental Agreement", "Sublease Agreement",
               "Assured Shorthold Tenancy Agreement", "Month-to-Month Rental Agreement",
               "Lease of Retail Premises", "Industrial Lease", "Short-Term Rental Agreement",
               "Lease Renewal Agreement"],
    "roles": [("Landlord", "Tenant"), ("Lessor", "Lessee"), ("Owner", "Resident"),
              ("Landlord", "Occupant"), ("Sublandlord", "Subtenant"), ("Owner", "Renter"),
              ("Lessor", "Tenant")],
    "docs": ["this Lease", "this Agreement", "this Tenancy Agreement",
             "this Rental Agreement", "this Lease"],
    "subjects": ["the {prem}", "the tenancy", "the leased {kind}",
                 "{B}'s occupancy of the {prem}", "the {kind} at {address}"],
    "persons": (0.3, 0.5),
    "shared": ["Governing Law", "Notices", "Indemnity", "Entire Agreement", "Assignment",
               "Force Majeure", "Dispute Resolution", "Confidentiality"],
    "purpose": [
        "{A} [leases|lets|rents] to {B}, and {B} [takes|hires|rents] from {A}, the {kind} "
        "[located|situated] at {address} (the \"{prem}\") for a term of {lease_term} "
        "[beginning|commencing] on {date}.",
        "{Doc} [grants|gives] {B} the right to [occupy|use and occupy] the {kind} at "
        "{address} [for|as] {use} [in return for|in exchange for] [monthly rent|a monthly "
        "rental payment] of {rent}.",
        "{p1} [agrees to let|lets] the {kind} at {address} to {p2} [for|on] a [fixed term of "
        "{lease_term}|month-to-month basis] [at a rent of|for] {rent} per month[, payable in "
        "advance|].",
        "The {prem} [comprises|consists of] [approximately {sqft} square feet|{sqft} sq. ft.] "
        "[on the|at] [second floor|ground floor|basement level] of {address}[, together "
        "with the right to use the common areas|, with two parking spaces] and [is|shall be] "
        "[leased|let] to {B} [for|solely for] {use}.",
    ],
    "recitals": [
        "{p1} is the [owner|registered proprietor|freehold owner] of the [building|property] "
        "[at|known as] {address}",
        "{p2} wishes to [lease|rent|occupy] [a portion of that building|the {kind} there] "
        "[for|to use as] {use}",
        "{p1} has agreed to [let|lease] the {kind} to {p2} [for {lease_term}|from {date}] at "
        "[a monthly rent of {rent}|the rent set out below]",
        "the parties [wish|desire] to [record|set out] the terms of the [tenancy|lease], "
        "including rent, [deposit|security deposit] and [repair obligations|permitted use]",
    ],
    "clauses": [
        ("Rent", "{B} shall pay [rent|base rent|monthly rent] of {rent} [per month|each "
         "calendar month] [in advance on the first day of each month|on or before the {dom} "
         "of each month] [by bank transfer to {A}'s nominated account|by standing order|]. "
         "[Rent not received within {n} days incurs a late fee of {late}.|Rent will increase "
         "by {pct2} on each anniversary of the commencement date.|]"),
        ("Security Deposit", "[On signing|Before moving in], {B} shall pay a [security|"
         "damage] deposit of {deposit}, which {A} will [hold|keep in a protected account] "
         "[and return within {n} days after the end of the tenancy|and refund at the end of "
         "the term], less [any amounts needed to repair damage beyond fair wear and tear|"
         "unpaid rent and the cost of repairing damage]."),
        ("Use of Premises", "The {prem} shall be used [only|solely] [as|for] {use} and for "
         "no other purpose. {B} shall [comply with all building rules|not cause a nuisance "
         "to neighbouring occupiers][ and shall not keep pets without {A}'s written consent|]."),
        ("Repairs and Maintenance", "{A} shall [keep|maintain] the roof, structure, "
         "[exterior walls|foundations] and [building systems|common areas] in good repair. "
         "{B} shall keep the interior of the {prem} [clean and in good condition|in a tidy "
         "and sanitary state][, fair wear and tear excepted,|] and [promptly report|notify {A} "
         "of] any [defects|leaks or damage]."),
        ("Utilities", "{B} [shall pay|is responsible for] [all charges for electricity, gas, "
         "water and internet|utilities, council tax and telephone charges] [supplied to|used "
         "at] the {prem}[, except water and refuse collection, which {A} shall pay|]."),
        ("Alterations", "{B} shall not make any [alterations|structural alterations or "
         "additions] to the {prem} [without|unless it has first obtained] {A}'s [prior "
         "written consent|written approval][, which shall not be unreasonably withheld|]. "
         "[At the end of the term {B} shall restore the {prem} to its original condition.|]"),
        ("Access", "{A} [and its agents|] may enter the {prem} [on|upon] [at least 24 "
         "hours'|reasonable] notice to [inspect it|carry out repairs|show it to prospective "
         "tenants or buyers][, and at any time in an emergency|]."),
        ("Subletting", "{B} shall not [assign {doc}|sublet the whole or any part of the "
         "{prem}] or [part with possession|share occupation] [without {A}'s prior written "
         "consent|in any circumstances]."),
        ("Renewal", "[Provided that|If] {B} is not in default, {B} [has the option|may elect] "
         "to renew [the tenancy|{doc}] for [one further term|a further period] of "
         "{lease_term} by giving {A} [at least|not less than] {notice} written notice[, at a "
         "rent equal to the then fair market rent|]."),
        ("Holding Over", "If {B} remains in [possession|occupation] [of the {prem}|] after "
         "the [term expires|end of the term] [without|and no] new [agreement|lease] [has been "
         "signed|is in place], the tenancy [continues|shall continue] on a month-to-month "
         "basis at [{holdover}|150% of the last monthly rent]."),
        ("Service Charges", "[In addition to rent|Alongside base rent], {B} shall pay its "
         "[proportionate share|pro rata share] of [the operating expenses|common area "
         "maintenance charges|building service charges], [estimated at {cam} per month and "
         "reconciled annually|including cleaning, security and insurance of the common "
         "parts]."),
        ("Furnishings", "The {kind} is let [furnished|with the furniture and appliances "
         "listed in the inventory], and {B} shall [return them|leave all such items] in "
         "[the same|good] condition at the end of the tenancy[, fair wear and tear excepted|]."),
    ],
    "summaries": [
        "Subject: [Lease|Tenancy] for {address}\n\nHi {first},\n\n[Attached is|Here is] the "
        "[signed|final] [lease|rental agreement|tenancy agreement] for the {kind}. [Rent is "
        "{rent} a month|Monthly rent of {rent}] starting {date}, [deposit of {deposit} "
        "received|with a {deposit} deposit], [term {lease_term}|{lease_term} term]. [Keys can "
        "be collected on Friday.|Let me know if the landlord's repair obligations look OK.]"
        "\n\n{first2}",
        "[Summary|Abstract]: [Commercial|Residential|Office|Retail] [lease|tenancy] between "
        "{p1} ([landlord|lessor]) and {p2} ([tenant|lessee]) for the {kind} at {address}. "
        "Term: {lease_term} from {date}. [Rent|Base rent]: {rent}/month. Permitted use: "
        "{use}. [Renewal option for a further {lease_term}.|No subletting without consent.|]",
        "[Hi|Hello] {first} - [the|our] [landlord|property manager] sent [the|a] [renewal|new "
        "lease] for [the {kind}|{address}]. [Rent goes up to|New rent is] {rent} per month "
        "and [we pay utilities|the deposit stays at {deposit}]. [Can you check the repair "
        "clause before I sign?|Do we want the longer term?]",
        "Lease [abstract|summary] - {address}: [{sqft} sq ft|{kind}]; tenant {p2}; "
        "commencement {date}; [expiry after {lease_term}|term {lease_term}]; rent {rent} per "
        "month[ plus service charge|]; [security deposit {deposit}|deposit {deposit}].",
    ],
    "oneliners": [
        "{A} [lets|leases] the {kind} at {address} to {B} for {lease_term} at {rent} per "
        "month.",
        "{B} shall pay [rent|the monthly rent] of {rent} in advance and [shall not sublet the "
        "{prem}|keep the {prem} in good repair].",
        "The [tenant|resident] [may occupy|will rent] the {kind} [for|as] {use} from "
        "{date}[, paying {rent} a month|].",
        "The [lease|tenancy] [for|of] {address} [runs|is] for {lease_term}, [with rent of|"
        "rent] {rent} per month, and [a deposit of {deposit}|{deposit} held as security].",
    ],
}

SPECS["loan"] = {
    "titles": ["Loan Agreement", "Promissory Note", "Term Loan Agreement",
               "Revolving Credit Agreement", "Secured Promissory Note",
               "Credit Facility Agreement", "Bridge Loan Agreement", "Demand Note",
               "Personal Loan Agreement", "Facility Letter", "Installment Note",
               "Shareholder Loan Agreement"],
    "roles": [("Lender", "Borrower"), ("Holder", "Maker"), ("Bank", "Borrower"),
              ("Lender", "Obligor"), ("Noteholder", "Issuer"), ("Creditor", "Debtor"),
              ("Lender", "Borrower")],
    "docs": ["this Agreement", "this Note", "this Loan Agreement", "this Facility Letter",
             "this Note"],
    "subjects": ["the Loan", "the outstanding principal", "the facility", "the Obligations",
                 "amounts owing under {doc}", "the credit facility"],
    "persons": (0.1, 0.4),
    "shared": ["Governing Law", "Notices", "Assignment", "Entire Agreement", "Indemnity",
               "Confidentiality"],
    "purpose": [
        "[For value received|FOR VALUE RECEIVED], {B} promises to pay to the order of {A} "
        "the principal sum of {principal}[, together with interest on the unpaid balance at "
        "{rate} per annum|], [on or before {date2}|in accordance with the schedule below].",
        "{A} [agrees to lend|will advance|shall make available] to {B} [a term loan|a loan|a "
        "revolving credit facility|an advance] [in the principal amount of|of up to] "
        "{principal}[ (the \"Loan\")|], [to be used|the proceeds of which shall be used] "
        "[solely|only] for {purpose}.",
        "{Doc} [sets out|governs] the terms on which {p1} [lends|has lent] {principal} to "
        "{p2}, [including interest at {rate}|repayable in {inst} monthly instalments] [and|"
        "with] [final maturity on {date2}|security over {collateral}].",
        "{B} [acknowledges that it is|is] indebted to {A} in the sum of {principal}[, "
        "advanced on {date},|] and [agrees|undertakes] to repay [that sum|it] with interest at "
        "{rate} [per annum|a year].",
    ],
    "recitals": [
        "{p2} has requested that {p1} [extend credit|make a loan] to it in the amount of "
        "{principal} [for|to finance] {purpose}",
        "{p1} is willing to [make the loan|provide the facility] on the terms and subject to "
        "the conditions [set out|contained] in {doc}",
        "{p2} [has agreed|is willing] to grant {p1} security over {collateral} to secure "
        "[repayment|its obligations]",
        "the parties wish to [document|record] the repayment terms, [interest rate|the "
        "interest payable] and [events of default|remedies of the lender]",
    ],
    "clauses": [
        ("Interest", "[Interest|The outstanding principal] [accrues|shall bear interest] [on "
         "the unpaid principal|] at [a fixed rate of|] {rate} per annum, [calculated|"
         "computed] on the basis of a [365-day|360-day] year [and the actual number of days "
         "elapsed|], and is payable [monthly in arrears|on each Payment Date|quarterly]."),
        ("Repayment", "{B} shall repay the [Loan|principal] in {inst} [equal|consecutive] "
         "monthly [instalments|installments] of {inst_amt}[, each including principal and "
         "interest,|] [commencing|beginning] on {date}[, with the entire unpaid balance due "
         "on the Maturity Date of {date2}|]."),
        ("Prepayment", "{B} may prepay [all or any part of|] the [Loan|outstanding "
         "principal] [at any time|on any interest payment date] [without premium or penalty|"
         "subject to a prepayment fee of {fee_pct} of the amount prepaid] [upon|on] {n} days' "
         "[written|prior] notice to {A}. [Partial prepayments apply to instalments in "
         "inverse order of maturity.|]"),
        ("Events of Default", "[Each of the following is|The following constitute] an Event "
         "of Default: (a) {B} fails to pay any amount [when due|within {n} days of its due "
         "date]; (b) {B} [becomes insolvent|makes an assignment for the benefit of "
         "creditors]; or (c) any [representation|statement] made by {B} [proves|is] "
         "[materially|] untrue[; or (d) {B} breaches any covenant in {doc}|]."),
        ("Acceleration", "[Upon|On] the occurrence of an Event of Default, {A} may[, by "
         "notice to {B},|] declare the [entire unpaid principal|outstanding balance of the "
         "Loan], [together with|plus] accrued interest[ and all other Obligations|], "
         "immediately due and payable[ and enforce its security|]."),
        ("Security", "[As security for|To secure] [the Obligations|repayment of the Loan], "
         "{B} [grants|hereby grants] to {A} a [first-priority|continuing] security interest "
         "in {collateral}[, and shall sign any documents {A} reasonably requires to perfect "
         "that interest|]."),
        ("Use of Proceeds", "{B} shall use the proceeds of the [Loan|facility|advance] "
         "[solely|only] for {purpose} and [not for any unlawful purpose|for no other purpose "
         "without {A}'s consent]."),
        ("Covenants", "[So long as|While] any amount [remains outstanding|is owed] under "
         "{doc}, {B} shall [deliver quarterly financial statements to {A}|maintain a debt "
         "service coverage ratio of at least 1.25 to 1.00] and shall not [incur additional "
         "debt|grant any other lien over its assets] without {A}'s [prior written consent|"
         "consent]."),
        ("Late Charges", "If any [instalment|payment] is [not received when due|more than "
         "{n} days late], {B} shall pay a late charge [equal to|of] {late}[, and overdue "
         "amounts bear default interest at {rate} plus 2%|]."),
        ("Conditions Precedent", "{A}'s obligation to [fund the Loan|make the advance] is "
         "subject to [receipt of|{A} having received] [a signed guarantee|evidence of "
         "insurance over {collateral}] and [a certified copy of {B}'s board resolutions|"
         "satisfactory know-your-customer checks][, and payment of an arrangement fee of "
         "{fee}|]."),
        ("Drawdown", "{B} may [request|draw] advances under the [facility|revolving credit "
         "facility] by [submitting|delivering] a [drawdown notice|borrowing request] [at "
         "least|no later than] {n} business days [before|prior to] the [proposed|requested] "
         "drawdown date, [provided that|so long as] [the total outstanding does not exceed|"
         "aggregate advances do not exceed] {principal}."),
        ("Guarantee", "[{guarantor}|The guarantor] [unconditionally guarantees|guarantees as "
         "primary obligor] the [punctual|due] payment of [all amounts|the principal and "
         "interest] owing by {B} under {doc}[ and waives any requirement that {A} first "
         "pursue {B}|]."),
    ],
    "summaries": [
        "Subject: [Loan docs|Credit facility] - {p2}\n\nHi {first},\n\n[The bank|{p1}] [has "
        "approved|approved] [a|the] [term loan|loan|facility] of {principal} at {rate}[, "
        "repayable over {inst} months|]. [It is secured on|Security is] {collateral}. "
        "[Please review the events of default before we sign.|Funds should arrive on "
        "{date}.]\n\n{first2}",
        "[Summary|Credit memo]: {principal} [loan|term loan|note] from {p1} to {p2} dated "
        "{date}. [Rate|Interest]: {rate}. [Repayment|Amortisation]: {inst} monthly "
        "instalments of {inst_amt}. [Maturity|Final payment]: {date2}. [Purpose|Use of "
        "funds]: {purpose}. [Secured by {collateral}.|Unsecured.]",
        "[Hi|Hello] {first}, [I have|we have] [signed|received] the [promissory note|loan "
        "agreement] [for|covering] the {principal} [we are borrowing|advance] from {p1}. "
        "[Interest is|It carries] {rate}[ and we can prepay without penalty|] - [first "
        "payment|the first instalment] is due {date}.",
        "Please [confirm|note] the [drawdown|advance] of {principal} under the [facility "
        "agreement|credit agreement] with {p1}. [Proceeds|The funds] [go to|are for] "
        "{purpose}; [repayment in {inst} instalments of {inst_amt}|interest of {rate} is "
        "payable quarterly].",
    ],
    "oneliners": [
        "{B} [promises|agrees] to repay the {principal} [borrowed|advanced] from {A} with "
        "interest at {rate} by {date2}.",
        "{A} [will lend|lends] {p2} {principal} [for|to finance] {purpose}, repayable in "
        "{inst} monthly instalments.",
        "If {B} misses [a payment|any instalment] by more than {n} days, {A} may [demand "
        "immediate repayment of the whole loan|accelerate the entire balance].",
        "[This note is|The loan is] secured by {collateral} and [bears|carries] interest at "
        "{rate} per annum.",
    ],
}

SPECS["services"] = {
    "titles": ["Master Services Agreement", "Consulting Agreement",
               "Statement of Work No. {sow}", "Professional Services Agreement",
               "Independent Contractor Agreement", "Services Agreement",
               "Maintenance Services Agreement", "Marketing Services Agreement",
               "Engagement Letter", "Consultancy Agreement", "Managed Services Agreement",
               "Service Agreement"],
    "roles": [("Client", "Consultant"), ("Customer", "Service Provider"),
              ("Company", "Contractor"), ("Client", "Agency"), ("Customer", "Provider"),
              ("Client", "Firm"), ("Company", "Consultant")],
    "docs": ["this Agreement", "this Statement of Work", "this MSA", "this Agreement",
             "this Engagement Letter"],
    "subjects": ["the Services", "the Deliverables", "the engagement",
                 "the {service} services", "any Statement of Work",
                 "the work performed under {doc}"],
    "persons": (0.0, 0.2),
    "shared": list(SHARED_CLAUSES),
    "purpose": [
        "{B} shall [provide|perform] [the|] {service} [services|work] [described in|set out "
        "in] [Schedule A|each Statement of Work|Exhibit 1] (the \"Services\") [for|to] {A}[ "
        "in a professional and workmanlike manner|], and {A} shall pay {B} [the fees set out "
        "below|for the Services as provided in {doc}].",
        "{p1} [engages|retains|hires] {p2} [as an independent contractor|on a consultancy "
        "basis] to [provide|deliver] {service} [services|support] [from {date}|for "
        "{term}][, including {deliverable}|].",
        "{Doc} [governs|sets out the terms of] [the|all] {service} [services|work] that {p2} "
        "[will perform|performs] for {p1}[ under individual statements of work|], "
        "[beginning|starting] {date}.",
        "Under this [Statement of Work|SOW], {B} will [deliver|produce] {deliverable} "
        "[for|to] {A} [by {date2}|within {n} weeks] for a [fixed fee|total fee] of {fee}[, "
        "payable on acceptance|].",
    ],
    "recitals": [
        "{p1} [requires|wishes to obtain] {service} [services|expertise] [in connection "
        "with|to support] [its operations in {city}|a project at its {city} site|its "
        "expansion plans]",
        "{p2} [is in the business of providing|has expertise in] {service} [services|] and "
        "[is willing|has agreed] to [perform|provide] such services for {p1}",
        "the parties wish to [establish|set out] the terms [under which|on which] {p2} will "
        "[perform|provide] services [pursuant to|under] [one or more statements of work|this "
        "agreement]",
        "{p1} [selected|has selected] {p2} [following|after] a [competitive tender|request "
        "for proposals] to [deliver|provide] {deliverable}",
    ],
    "clauses": [
        ("Scope of Services", "{B} shall [perform|provide] the {service} services "
         "[described|specified] in [each Statement of Work|Schedule 1][ executed by the "
         "parties|], [using|with] [suitably qualified personnel|appropriately skilled staff] "
         "and [in accordance with good industry practice|to the standards set out in {doc}]."),
        ("Fees", "{A} shall pay {B} [at the rate of|a fee of] {hourly} per hour[ for time "
         "actually worked|], [invoiced monthly|billed monthly in arrears], [with|and] [each "
         "invoice payable within {n} days of receipt|payment due {n} days after the invoice "
         "date]. [Fees are exclusive of applicable taxes.|]"),
        ("Deliverables and Acceptance", "{B} shall deliver {deliverable} [by|no later than] "
         "{date2}. {A} [shall have|has] {n} business days [after delivery|] to [review|test] "
         "[each Deliverable|the Deliverables] and [accept or reject it|notify {B} of any "
         "non-conformity], [after which|failing which] it [is|shall be] deemed accepted."),
        ("Independent Contractor", "{B} [is|acts as] an independent contractor[ and not an "
         "employee, partner or agent of {A}|]. {B} [is solely responsible for|shall pay] "
         "[its own taxes, insurance and personnel costs|all taxes and benefits for its "
         "personnel], and [nothing in {doc}|no provision of {doc}] creates an employment "
         "relationship[ between {A} and {B} or its staff|]."),
        ("Expenses", "{A} shall reimburse {B} for [reasonable|pre-approved] [travel and "
         "out-of-pocket|] expenses [incurred in performing the Services|properly incurred in "
         "providing the Services][, provided they are approved in writing in advance and "
         "supported by receipts|]."),
        ("Change Requests", "[Either party|{A}] may request changes to the [scope of the "
         "Services|Services or Deliverables] by [written change request|submitting a change "
         "order]. {B} shall [provide|respond with] [an estimate of the effect on fees and "
         "timing|a revised quote] [within {n} days|promptly], and no change is binding until "
         "[signed by both parties|agreed in writing]."),
        ("Service Levels", "{B} shall [meet|achieve] the service levels [set out in Schedule "
         "2|specified in the applicable SOW], including [a response time of four hours for "
         "priority incidents|{uptime} availability of the supported systems]. [If {B} misses "
         "a service level, {A} is entitled to service credits of {pct2} of the monthly fee.|]"),
        ("Ownership of Work Product", "[Upon payment in full|On payment], all [rights|"
         "intellectual property rights] in the Deliverables [vest in|pass to] {A}. {B} "
         "[retains ownership of its pre-existing tools and methods|keeps its pre-existing "
         "materials] and grants {A} a [non-exclusive, perpetual|royalty-free] [licence|"
         "license] to use [them|any such materials] [as incorporated in the Deliverables|as "
         "part of the Deliverables]."),
        ("Personnel", "{B} shall assign [the key personnel named in the SOW|a dedicated "
         "project manager] [to the engagement|to perform the Services] and shall not replace "
         "them without {A}'s [consent|approval][, not to be unreasonably withheld|]. [{B} is "
         "responsible for supervising and paying its personnel.|]"),
        ("Term of Engagement", "{Doc} [begins|commences] on {date} and [continues|remains in "
         "force] for {term}[ unless terminated earlier|]. {A} may terminate [any Statement "
         "of Work|the Services] for convenience on {notice} notice, paying [for Services "
         "performed up to the termination date|all fees for work completed]."),
        ("Warranty", "{B} warrants that the Services will be performed [with reasonable "
         "skill and care|in a professional manner consistent with industry standards] and "
         "[will re-perform any non-conforming Services at no charge|shall correct any "
         "defective work] if notified within {n} days."),
        ("Retainer", "{A} shall pay {B} a monthly retainer of {fee}[, covering up to {hrs} "
         "hours of {service} services per month|]. [Additional hours are billed at {hourly} "
         "per hour.|Unused hours do not carry over.]"),
    ],
    "summaries": [
        "Subject: [SOW|Engagement] - {service}\n\nHi {first},\n\n[Attached is|Here is] the "
        "[statement of work|MSA] with {p2} for {service} [support|services]. [They will "
        "deliver|Deliverable is] {deliverable} [by {date2}|], [billed at {hourly}/hour|fixed "
        "fee {fee}]. [Please get it signed by procurement.|Can you confirm the acceptance "
        "period?]\n\n{first2}",
        "[Summary|Contract summary]: [Master services|Consulting|Professional services] "
        "agreement between {p1} (client) and {p2} ([consultant|provider]). Scope: {service} "
        "services[, including {deliverable}|]. [Fees|Rate]: {hourly} per hour[, net {n}|]. "
        "Term: {term} from {date}. [Contractor is independent; no employment relationship.|"
        "Client owns the deliverables on payment.]",
        "[Hi|Hello] {first} - [we have|I have] [engaged|hired] {p2} [as consultants|on "
        "contract] to [handle|take over] our {service} [work|needs] [for {term}|starting "
        "{date}]. [They invoice monthly|Invoices are monthly] at {hourly} per hour[ and "
        "bring their own staff|]. [Contract attached.|Signed copy is in the shared drive.]",
        "Procurement note: [renewal|new award] of the {service} [services contract|managed "
        "services agreement] to {p2}. [SLA|Service level]: {uptime}. [Fee|Price]: {fee} per "
        "month. Notice to terminate: {notice}.",
    ],
    "oneliners": [
        "{B} will [provide|perform] {service} services for {A} at {hourly} per hour[, "
        "invoiced monthly|].",
        "{p2} [is engaged|is retained] as an independent contractor to [deliver|produce] "
        "{deliverable} for a fixed fee of {fee}.",
        "The [consultant|provider] shall [perform the Services|carry out the work] [using its "
        "own personnel|with reasonable skill and care] and [invoice|bill] {A} monthly in "
        "arrears.",
        "[This SOW|Statement of Work No. {sow}] [covers|describes] {service} [work|services] "
        "[to be completed|due] by {date2}.",
    ],
}

SPECS["sale_of_goods"] = {
    "titles": ["Purchase Agreement", "Supply Agreement", "Sale of Goods Agreement",
               "Purchase Order", "Bill of Sale", "Sales Agreement",
               "Equipment Purchase Agreement", "Master Supply Agreement",
               "Distribution and Supply Agreement", "Sales Contract",
               "Goods Purchase Contract", "Supply Contract"],
    "roles": [("Seller", "Buyer"), ("Supplier", "Purchaser"), ("Vendor", "Customer"),
              ("Supplier", "Buyer"), ("Manufacturer", "Distributor"),
              ("Seller", "Purchaser"), ("Supplier", "Customer")],
    "docs": ["this Agreement", "this Contract", "this Purchase Order", "this Agreement",
             "this Supply Agreement"],
    "subjects": ["the Products", "the {goods}", "any shipment of {goods}",
                 "the goods sold under {doc}", "each Order of Products", "the Goods"],
    "persons": (0.05, 0.1),
    "shared": list(SHARED_CLAUSES),
    "purpose": [
        "{A} agrees to sell and {B} agrees to [buy|purchase] {qty} [units of|lots of] "
        "{goods} (the \"[Products|Goods]\") at [a price of|] {unit_price} per [unit|item|"
        "lot][, for a total purchase price of {total}|].",
        "{Doc} [governs|applies to] [all|each] [sales|purchase orders] of {goods} by {p1} to "
        "{p2}[, to the exclusion of any terms in {B}'s purchase order|], [for delivery|with "
        "delivery] {incoterm} {port}.",
        "{p1} [shall supply|will manufacture and supply] {goods} to {p2} [on a "
        "non-exclusive basis|as {B}'s preferred supplier] [for {term}|from {date}], "
        "[against|in accordance with] purchase orders issued by {B} [from time to time|under "
        "{doc}].",
        "For [the sum of|consideration of] {total}, {p1} [sells, transfers and delivers|"
        "hereby sells and transfers] to {p2} [all right, title and interest in|the following "
        "goods:] {goods}[, free of all liens and encumbrances|].",
    ],
    "recitals": [
        "{p1} [manufactures|distributes|is a wholesaler of] {goods}",
        "{p2} wishes to [purchase|buy] {goods} [from {p1}|] [for resale in {city}|for use in "
        "its facilities|for its retail stores]",
        "the parties wish to [set out|agree] the terms [on which|under which] {p1} will "
        "[supply|sell] and {p2} will [purchase|buy] [such goods|the Products], including "
        "[price, delivery and warranty|pricing and delivery terms]",
        "{p2} has [issued|placed] [a purchase order|an order] [for|covering] {qty} [units of|"
        "lots of] {goods} [dated {date}|][ which {p1} has accepted|]",
    ],
    "clauses": [
        ("Delivery", "{A} shall deliver the [Products|Goods|{goods}] {incoterm} {port} [on or "
         "before|no later than] {date2}[, properly packed for shipment|]. [Partial deliveries "
         "are permitted unless {B} objects in writing.|Time of delivery is of the essence.|]"),
        ("Title and Risk", "[Title to and risk of loss of|Ownership of and risk in] the "
         "[Products|Goods] [pass|shall pass] to {B} [upon delivery|when they are handed to "
         "the carrier|on receipt at {B}'s warehouse][, except that {A} retains title until "
         "the price is paid in full|]."),
        ("Inspection and Acceptance", "{B} [may|shall] inspect the [Products|Goods|{goods}] "
         "within {n} days [after|of] [receipt|delivery] and [may reject|notify {A} in writing "
         "of] any [nonconforming|defective] [items|units][, which {A} shall replace or credit "
         "at its own cost|]. [Goods not rejected within that period are deemed accepted.|]"),
        ("Product Warranty", "{A} warrants that [the Products|the {goods}] [will|shall], for "
         "{warranty} [from delivery|after the date of shipment], [be free from defects in "
         "materials and workmanship|conform to the agreed specifications][ and be of "
         "merchantable quality|]. [{B}'s sole remedy is repair, replacement or refund of the "
         "price.|]"),
        ("Price and Payment", "The [price|prices] [for|of] the [Products|Goods] [are as "
         "stated in {A}'s current price list|are {unit_price} per unit][, exclusive of VAT, "
         "sales tax and freight|]. [{B} shall pay each invoice within {n} days of the invoice "
         "date|Payment is due {n} days from shipment][; late payments bear interest at 1.5% "
         "per month|]."),
        ("Orders", "{B} shall [place|submit] [purchase orders|written orders] [for|"
         "specifying] [the quantity of|] [{goods}|Products] and [requested delivery dates|the "
         "delivery location] [at least|not less than] {n} days [before|in advance of] "
         "[delivery|the requested delivery date]. [No order is binding until accepted by "
         "{A}.|{A} shall confirm each order within two business days.]"),
        ("Minimum Purchase", "[During each|In each] contract year, {B} shall [purchase|order] "
         "[at least|a minimum of] {qty} units of {goods}[, and if it fails to do so {A} may "
         "adjust prices or end exclusivity|]."),
        ("Packaging and Shipping", "{A} shall [pack|package] the {goods} [in accordance "
         "with|to comply with] [{B}'s packaging specifications|industry standards for export "
         "shipment] and [label each carton with the order number|include a packing list with "
         "each shipment][; freight is for {B}'s account|]."),
        ("Returns", "{B} may return [defective|nonconforming] {goods} [within|no later than] "
         "{n} days [of delivery|after receipt] [with|after obtaining] a return authorisation "
         "number[, and {A} shall issue a credit note or replacement|]."),
        ("Specifications", "The {goods} shall [conform to|comply with] the [specifications|"
         "technical specifications] in [Schedule 1|the applicable order] and [all applicable "
         "safety standards|relevant product safety laws]; {A} shall not change [materials, "
         "design or manufacturing location|the specifications] without [{B}'s prior written "
         "approval|{n} days' notice]."),
        # Firmware is named without the goods slot: "firmware in frozen seafood" reads badly.
        ("Embedded Firmware", "Any [firmware|software] embedded in [equipment|devices|control "
         "units] supplied under {doc} is [supplied|provided] [solely|only] for use with that "
         "equipment[ and transfers with it on resale|], and {B} shall not [copy|extract] it "
         "[separately|for any other use]."),
        ("Installation", "[If the order so specifies|Where ordered], {A} shall [install|"
         "deliver and install] the {goods} at {B}'s [site|premises] [for the installation "
         "charge stated in the quotation|at no extra charge], [after which|and] the warranty "
         "period [begins|runs from completion of installation]."),
    ],
    "summaries": [
        "Subject: PO [#{po}|{po}] - {goods}\n\nHi {first},\n\n[We have|I have] [placed|"
        "issued] [the|our] [purchase order|order] with {p1} for {qty} [units of|lots of] "
        "{goods} at {unit_price} each. [Delivery {incoterm} {port} by {date2}.|They ship by "
        "{date2}.] [Warranty is {warranty}.|Payment net {n}.]\n\n{first2}",
        "[Summary|Contract summary]: [Supply|Purchase] agreement - {p1} ([seller|supplier]) "
        "sells {goods} to {p2} ([buyer|purchaser]). [Price|Unit price]: {unit_price}. "
        "[Delivery|Incoterm]: {incoterm} {port}. [Warranty|Defects warranty]: {warranty}. "
        "[Title passes on delivery.|Minimum annual volume {qty} units.]",
        "[Hi|Hello] {first} - {p1} [sent|has sent] [their|its] [terms of sale|sales contract] "
        "for the {goods}. [Total is|Price comes to] {total}[, delivered {incoterm}|], and [we "
        "get {n} days to inspect and reject|risk passes to us on delivery]. [OK to accept?|"
        "Please review the warranty section.]",
        "Bill of sale [note|summary]: {p1} [sold|transferred] {goods} to {p2} on {date} for "
        "{total}[, paid in full|]; [sold as is|warranted free of liens].",
    ],
    "oneliners": [
        "{A} [shall sell|agrees to sell] {qty} [units of|lots of] {goods} to {B} at "
        "{unit_price} each, delivered {incoterm} {port}.",
        "[Risk and title|Title and risk] in the {goods} pass to the [buyer|purchaser] on "
        "delivery[, and payment is due within {n} days|].",
        "{p2} [ordered|is purchasing] {goods} from {p1} for {total} [with|under] a {warranty} "
        "[defects|] warranty.",
        "The [supplier|seller] [warrants|guarantees] the {goods} [against defects|to meet "
        "specification] for {warranty} [from delivery|after shipment].",
    ],
}

SPECS["software_license"] = {
    "titles": ["Software License Agreement", "End User License Agreement",
               "SaaS Subscription Agreement", "Enterprise License Agreement",
               "Software Licence Agreement", "Subscription Agreement",
               "OEM Software License Agreement", "Evaluation License Agreement",
               "Source Code License Agreement", "Cloud Services Subscription Agreement",
               "Licence and Support Agreement", "Site Licence"],
    "roles": [("Licensor", "Licensee"), ("Provider", "Customer"), ("Company", "User"),
              ("Vendor", "Licensee"), ("Publisher", "End User"), ("Licensor", "Customer"),
              ("Provider", "Subscriber")],
    "docs": ["this License", "this EULA", "this Agreement", "this Licence",
             "this Subscription Agreement"],
    "subjects": ["the Software", "{product}", "the licensed software",
                 "the Subscription Service", "the Licensed Materials",
                 "{product} and its documentation"],
    "persons": (0.0, 0.15),
    "shared": list(SHARED_CLAUSES),
    "purpose": [
        "[Subject to the terms of {doc}|Subject to payment of the applicable fees], {A} "
        "grants {B} a [non-exclusive, non-transferable|limited, revocable, non-sublicensable] "
        "[license|licence|right] to [install and use|access and use] {product} [for {B}'s "
        "internal business purposes|on up to {seats} devices|for up to {seats} named "
        "users][ during the {sub_term}|].",
        "{Doc} [governs|sets out the terms of] [your|{B}'s] [use of|access to] {product}[, "
        "including any updates and documentation|]. [By clicking \"I agree\"|By installing "
        "or using the Software], [you|{B}] [accept|agree to] {doc}.",
        "{p1} [licenses|makes available] [its|the] {product} [software|platform] to {p2} [on "
        "a subscription basis|under a perpetual licence] [for|in return for] [an annual fee|"
        "a one-time licence fee] of {license_fee}[, covering {seats} users|].",
        "{A} [will provide|provides] {B} with [access to|a licence for] {product}, a "
        "[hosted|cloud-based|on-premise] {platform}, [for the {sub_term}|beginning {date}], "
        "[subject to the usage limits below|in accordance with the order form].",
    ],
    "recitals": [
        "{p1} [has developed|owns all rights in] the {platform} known as {product}",
        "{p2} wishes to [obtain|acquire] a [licence|license|subscription] to [use|access] "
        "{product} [for its internal operations|for its {seats} employees|in its {city} "
        "offices]",
        "{p1} is willing to grant [such|that] [licence|license|right] on the terms [and "
        "conditions|] set out [below|in {doc}]",
        "the parties wish to [set out|record] the [scope of use|licence scope], [fees|"
        "subscription fees] and [restrictions|support terms] for {product}",
    ],
    "clauses": [
        ("Restrictions", "{B} shall not[, and shall not permit any third party to,|] "
         "[reverse engineer, decompile or disassemble|modify, adapt or translate] {product}, "
         "[rent, lease, lend or sublicense it|make it available to any third party as a "
         "service bureau], or [remove any proprietary notices|use it to build a competing "
         "product]."),
        ("Ownership", "{product} is [licensed, not sold|licensed and not sold]. {A} [and its "
         "licensors retain|retains] all right, title and interest in {product}[, including "
         "all copies and updates|] and all related intellectual property rights[; no rights "
         "are granted other than those expressly stated|]."),
        ("Fees", "{B} shall pay [the|an] [annual subscription fee|licence fee|license fee] of "
         "{license_fee} [in advance|on the invoice date][, covering up to {seats} named "
         "users|, covering up to {seats} devices|]. [Additional users are charged pro rata.|"
         "Fees are non-refundable except as stated in {doc}.]"),
        ("Support and Updates", "[During the {sub_term}|For so long as {B} pays the "
         "maintenance fee], {A} [will provide|shall make available] [updates, patches and new "
         "releases of {product}|bug fixes and minor releases] [and email support during "
         "business hours|together with technical support services][, responding to critical "
         "issues within [four|eight|24] hours|]."),
        ("Audit", "[Upon|On] {n} days' [written|prior] notice, {A} may [audit|inspect] {B}'s "
         "[records and systems|use of {product}] [no more than once per year|during normal "
         "business hours] to verify [compliance with the licence scope|the number of users or "
         "installations][, and {B} shall promptly pay for any excess use|]."),
        ("Customer Data", "[As between the parties|As between {A} and {B}], {B} owns all data "
         "[uploaded to|processed by] {product} (\"Customer Data\"). {A} [shall|will] process "
         "Customer Data [only|solely] to provide the [Subscription Service|hosted service] "
         "and [shall implement|maintains] [appropriate|industry-standard] security measures."),
        ("Availability", "{A} [shall use commercially reasonable efforts to make|will make] "
         "{product} available {uptime} of the time in each calendar month, excluding "
         "scheduled maintenance[; if availability falls below that level {B} may claim "
         "service credits|]."),
        ("Warranty Disclaimer", "[EXCEPT AS EXPRESSLY STATED IN {DOC},|] {PRODUCT} IS "
         "PROVIDED \"AS IS\"[ AND \"AS AVAILABLE\"|] [WITHOUT WARRANTY OF ANY KIND|AND {A_UP} "
         "DISCLAIMS ALL IMPLIED WARRANTIES], [INCLUDING|INCLUDING ANY WARRANTY OF] "
         "MERCHANTABILITY [AND|OR] FITNESS FOR A PARTICULAR PURPOSE."),
        ("Term and Termination", "[The licence|The subscription] [continues|runs] for the "
         "{sub_term}[ and renews automatically unless either party gives {notice} notice|]. "
         "[Upon|On] termination, {B} shall [cease using|stop all use of] {product} and "
         "[uninstall|delete] all copies[ in its possession|]."),
        ("Scope of Use", "[Use of {product}|The licence] is [limited|restricted] to {seats} "
         "[named users|concurrent users|installations] [at {B}'s sites in {city}|within {B}'s "
         "organisation], and [may not be shared between users|credentials may not be "
         "shared]. [Affiliates may use {product} only with {A}'s consent.|]"),
        ("Source Code Escrow", "{A} shall deposit the source code of {product} with an "
         "[independent|approved] escrow agent and [update the deposit with each major "
         "release|keep it current]; the code [will be released|may be released] to {B} "
         "[only|solely] if {A} [ceases to support {product}|becomes insolvent]."),
        ("Open Source", "{product} [may include|includes] open source components [licensed "
         "under|distributed under] their own [licence|license] terms[, which are listed in "
         "the documentation|]; [nothing in {doc} restricts {B}'s rights under those terms|"
         "those terms prevail for the relevant components]."),
    ],
    "summaries": [
        "Subject: [{product} renewal|{product} licence]\n\nHi {first},\n\n[The|Our] "
        "[{product} subscription|licence for {product}] [renews|is up for renewal] on {date} "
        "at {license_fee} [a year|per year] for {seats} [users|seats]. [Support and updates "
        "are included.|The audit clause is still in there.] [Do we want to add seats?|Please "
        "approve the PO.]\n\n{first2}",
        "[Summary|Contract summary]: [Software licence|SaaS subscription|EULA] - {p1} "
        "[licenses {product} to {p2}|grants {p2} access to {product}]. Scope: {seats} [users|"
        "devices]. Fee: {license_fee}. [Restrictions: no reverse engineering or "
        "sublicensing.|Customer owns its data; uptime {uptime}.]",
        "[Hi|Hello] {first} - [legal|I] [reviewed|looked at] the [EULA|licence terms|"
        "subscription terms] for {product}. [It is|The software is] licensed, not sold, [use "
        "is limited to|we are capped at] {seats} [users|installations], and {p1} [can audit "
        "us|may audit] on {n} days' notice. [Fine to click accept.|One concern: "
        "auto-renewal.]",
        "IT [request|ticket]: [purchase|renew] {seats} [licences|licenses|seats] of {product} "
        "from {p1} at {license_fee}. [Licence|License] term: {term}; [installation on "
        "company laptops only|SSO access for all staff].",
    ],
    "oneliners": [
        "{A} grants {B} a non-exclusive [licence|license] to use {product} [for internal "
        "purposes|on {seats} devices][ during the {sub_term}|].",
        "The [user|licensee] may not [copy, modify or reverse engineer|decompile, rent or "
        "sublicense] {product}.",
        "[Access to|Use of] {product} is provided on [an annual subscription|a per-seat "
        "subscription] of {license_fee} for {seats} users.",
        "{product} is licensed, not sold, and all [intellectual property|rights in it] "
        "remain with {p1}.",
    ],
}

SPECS["settlement"] = {
    "titles": ["Settlement Agreement and Mutual Release", "Settlement Agreement",
               "Release and Settlement Agreement", "Deed of Settlement",
               "Compromise Agreement", "Settlement Agreement and General Release",
               "Confidential Settlement Agreement", "Stipulation of Settlement",
               "Full and Final Release", "Deed of Release", "Mutual Release Agreement",
               "Memorandum of Settlement"],
    "roles": [("Claimant", "Respondent"), ("Plaintiff", "Defendant"),
              ("Releasor", "Releasee"), ("Claimant", "Company"),
              ("First Party", "Second Party"), ("Employee", "Company"),
              ("Plaintiff", "Defendants")],
    "docs": ["this Agreement", "this Settlement Agreement", "this Deed", "this Release",
             "this Agreement"],
    "subjects": ["the Released Claims", "the Dispute", "the Action", "the settlement payment",
                 "the matters released under {doc}", "the Settlement Amount"],
    "persons": (0.5, 0.1),
    "shared": ["Governing Law", "Notices", "Confidentiality", "Entire Agreement",
               "Assignment", "Dispute Resolution", "Indemnity"],
    "purpose": [
        "[The parties|{p1} and {p2}] [wish|have agreed] to [settle|resolve] [fully and "
        "finally|] [{dispute}|all claims between them relating to {dispute}] [without further "
        "litigation|without any admission of liability][ on the terms set out below|].",
        "In [full and final settlement|full settlement] of {dispute}, {B} shall pay {A} "
        "{settle_amt}[, and {A} releases {B} from all related claims|, in exchange for a "
        "general release].",
        "{Doc} [resolves|settles] [Case No. {caseno}, pending in|the action pending in] "
        "{court}[, which concerns {dispute}|], [on the basis that|whereby] {B} [pays|will "
        "pay] {settle_amt} and the [action|case] is dismissed with prejudice.",
        "[In consideration of|In exchange for] [the Settlement Amount|payment of "
        "{settle_amt}], {A} [releases and forever discharges|fully releases] {B} [and its "
        "affiliates, officers and employees|] from [any and all|all] claims [arising out of|"
        "relating to] {dispute}[, whether known or unknown|].",
    ],
    "recitals": [
        "a dispute has arisen between {p1} and {p2} [concerning|regarding] {dispute}",
        "{p1} [commenced proceedings|filed a complaint] against {p2} in {court}[ (Case No. "
        "{caseno})|][ on {date}|]",
        "{p2} denies [all liability|the allegations][ and any wrongdoing|] but wishes to "
        "avoid the [cost|expense] and [uncertainty|distraction] of [further litigation|a "
        "trial]",
        "the parties [wish|have agreed] to [settle|compromise] [all claims between them|the "
        "dispute] [on a full and final basis|fully and finally] [on the terms of {doc}|"
        "without admission of liability]",
    ],
    "clauses": [
        ("Settlement Payment", "[Within|No later than] {n} days [after|of] [the Effective "
         "Date|execution of {doc}], {B} shall pay {A} the sum of {settle_amt} (the "
         "\"Settlement Amount\") [by wire transfer to|into] [the client account of {A}'s "
         "solicitors|the trust account of {A}'s counsel][ in full and final satisfaction of "
         "all claims|]."),
        ("Release", "[In consideration of|Upon receipt of] the Settlement Amount, {A}[, on "
         "behalf of itself and its successors,|] [releases and forever discharges|irrevocably "
         "releases] {B} [and its past and present officers, employees and affiliates|and its "
         "insurers] from [any and all|all] claims, [demands and causes of action|liabilities "
         "and demands], [known or unknown|whether known or unknown], arising out of or "
         "relating to {dispute}."),
        ("No Admission of Liability", "{Doc} [is a compromise of disputed claims|is entered "
         "into to avoid the cost of litigation] and [shall not be construed as|is not] an "
         "admission of liability or wrongdoing by {B}[ or any other party|], [which liability "
         "is expressly denied|and may not be used as evidence in any proceeding]."),
        ("Dismissal", "[Within|No later than] {n} days after [receipt of|receiving] the "
         "Settlement Amount, {A} shall [file|cause its counsel to file] a [stipulation|"
         "notice] of dismissal [of the Action|] with prejudice [in {court}|], [with each party "
         "bearing|each party to bear] its own costs and attorneys' fees."),
        ("Confidentiality of Settlement", "[The parties|{A} and {B}] shall keep the [terms|"
         "existence and terms] of {doc}[, including the Settlement Amount,|] [confidential|"
         "strictly confidential] and [shall disclose them only|may disclose them only] to "
         "their [lawyers, accountants and insurers|professional advisers] or as required by "
         "law."),
        ("Non-Disparagement", "[Neither party|{A}] shall [make|publish] any [disparaging|"
         "negative] statement about [the other party|{B}][ or its products, officers or "
         "employees|] [in relation to {dispute}|concerning the matters resolved by {doc}]."),
        ("Covenant Not to Sue", "{A} [covenants|agrees] not to [commence|bring] any [action|"
         "claim or proceeding] against {B} [based on|arising from] [any matter released in "
         "{doc}|{dispute}][, and shall indemnify {B} for costs incurred if it does|]."),
        ("Waiver of Unknown Claims", "{A} [expressly waives|waives] [the benefit of Section "
         "1542 of the California Civil Code and any similar law|any rights under any statute "
         "protecting unknown claims], [acknowledging|and acknowledges] that it may later "
         "discover facts different from those it now believes to be true [concerning|about] "
         "{dispute}."),
        ("Review Period", "{A} acknowledges that [it has|they have] been advised to consult "
         "[a lawyer|an independent legal adviser] [before signing|about {doc}], [has had {n} "
         "days to consider it|was given a reasonable period to review it], and [may revoke "
         "{doc} within seven days after signing|enters into it voluntarily]."),
        ("Tax Treatment", "[The Settlement Amount|The payment] [shall be|will be] [paid "
         "without deduction|paid less applicable withholding][, and {A} is responsible for "
         "any taxes due on it|; {A} shall indemnify {B} for any tax assessed on the "
         "payment]."),
        ("Mutual Release", "[Each party releases|{A} and {B} each release] the other [from "
         "all claims it has or may have|from every claim], [whether in contract, tort or "
         "otherwise|in contract, tort or under statute], [arising from|connected with] "
         "{dispute}[, other than obligations under {doc}|]."),
        ("Payment Schedule", "{B} shall pay the {settle_amt} [in {sinst} monthly instalments|"
         "in {sinst} equal instalments] [beginning|starting] {date}; [if any instalment is "
         "missed|if {B} defaults], {A} may [enter judgment for the unpaid balance|reinstate "
         "the original claim]."),
    ],
    "summaries": [
        "Subject: [{p2} matter|Settlement] - [signed|executed] [agreement|release]\n\nHi "
        "{first},\n\n[We have|Good news: we] settled {dispute} with {p2}. [They pay|Payment "
        "of] {settle_amt} within {n} days[, mutual releases,|] [no admission of liability|and "
        "the case gets dismissed with prejudice]. [Terms are confidential.|Please diarise "
        "the payment date.]\n\n{first2}",
        "[Summary|Case note]: [Settlement|Compromise] of {dispute} between {p1} and {p2}. "
        "[Payment|Amount]: {settle_amt}. [Release|Releases]: [general|mutual]. [Dismissal "
        "with prejudice within {n} days.|Confidentiality and non-disparagement apply.] [No "
        "admission of liability.|]",
        "[Hi|Hello] {first} - [opposing counsel|the other side] [accepted|agreed to] "
        "{settle_amt} to [end|settle] [the case in {court}|{dispute}]. [We release all claims "
        "once paid|Our client signs a full release on receipt]; [the action will be "
        "dismissed|no admission of fault]. [Draft release attached.|Can you prepare the "
        "dismissal papers?]",
        "Mediation outcome: [the parties|{p1} and {p2}] [reached|signed] [a settlement|heads "
        "of terms][ on {date}|] - {settle_amt} [payable|paid] [in {sinst} instalments|within "
        "{n} days] in [full and final|] settlement of {dispute}, [with mutual releases|with a "
        "confidentiality clause].",
    ],
    "oneliners": [
        "{B} will pay {settle_amt} in full and final settlement of {dispute}, and {A} "
        "releases all related claims.",
        "In exchange for {settle_amt}, {p1} [releases|discharges] {p2} from [all claims|any "
        "claim] [arising from|relating to] {dispute}.",
        "[The parties|Both sides] [agree|have agreed] to dismiss [the action in {court}|the "
        "case] with prejudice [upon payment of|after receipt of] {settle_amt}.",
        "[This settlement|The settlement of {dispute}] is [a compromise|a compromise of "
        "disputed claims] and [not an admission of liability|does not admit fault] by {B}.",
    ],
}

# ---------------------------------------------------------------------------
# Mixed documents. Real agreements carry clauses of other types: a services
# agreement has a confidentiality clause and licenses its deliverables, a lease
# lends money for the fit-out, a sale lets the buyer pay by instalments. The
# clauses below are written for a host type (the dict key) and borrow another
# type's subject (the first field), always as a subordinate term of the host
# document: the host's own clauses set its main purpose, and so its label.
# Roles are the host's: {A} and {B} as in that label's SPECS entry.
# Entries with a fourth field apply only when the context allows it
# ("employment_dispute": a settlement of an employment claim; "equipment": the
# goods are machines or devices, or a loan finances their purchase).
# ---------------------------------------------------------------------------
ANCILLARY: dict[str, list[tuple]] = {
    "nda": [
        ("software_license", "No Licence",
         "[Nothing in {doc} grants {B} any licence or other right under any patent, copyright, "
         "trade mark or software of {A}|{Doc} grants {B} no license to any software, patent or "
         "other intellectual property of {A}], [other than the limited right to review the {info} "
         "for the {deal}|except the right to evaluate the {info}]. [Any licence will be the "
         "subject of a separate written agreement.|]"),
        ("software_license", "Evaluation Copies",
         "If {A} makes a [demonstration|test] copy of its software available so that {B} can "
         "assess the {deal}, {B} may use it only [for that assessment|internally for that "
         "purpose] and shall [delete|uninstall] it [when discussions end|at {A}'s request]; the "
         "software and its documentation form part of the {info}."),
        ("sale_of_goods", "Samples",
         "Any [samples|prototypes|product samples] that {A} provides for [testing|the "
         "evaluation] remain {A}'s property, [are provided free of charge|carry no warranty] and "
         "shall be returned [with the other materials|on request]. [{Doc} is not an agreement to "
         "sell or buy any products.|No sale of goods is intended.]"),
        ("employment", "No Agency or Employment",
         "[Nothing in {doc} creates|{Doc} does not create] [any partnership, agency, joint "
         "venture or employment relationship|an employment, agency or partnership relationship] "
         "between {A} and {B}[, and neither may bind the other|]."),
        ("services", "No Services",
         "{Doc} does not [engage|appoint] either party to [perform any services|provide "
         "services or advice] for the other, and no fee is payable under it. [Any engagement will "
         "be documented separately.|]"),
        ("loan", "No Commitment to Finance",
         "[Where the {deal} involves financing, nothing|Nothing] in {doc} commits either party to "
         "[lend, borrow or invest any money|provide or accept any loan or investment][; any such "
         "commitment requires a signed facility agreement|]."),
        ("lease", "Site Visits",
         "If {B}'s representatives visit {A}'s [premises|facilities] [during the evaluation|in "
         "connection with the {deal}], they shall follow {A}'s site and safety rules and shall "
         "not [photograph|record] anything. [Such visits give {B} no right to occupy or use the "
         "premises.|No right to occupy any part of the premises is granted.]"),
        ("settlement", "No Waiver of Claims",
         "[Nothing in {doc} settles, releases or waives|{Doc} does not settle, release or waive] "
         "any existing claim either party may have against the other[, and information "
         "exchanged under {doc} is without prejudice to those claims|]."),
    ],
    "employment": [
        ("nda", "Confidential Information",
         "[During and after the employment|Both during the employment and after it ends], {B} "
         "shall not [disclose|use or disclose] any [confidential information|trade secrets or "
         "confidential information] of {A}, including {examples}, except [in the proper "
         "performance of {B}'s duties|as required for the role] or as required by law."),
        ("software_license", "Equipment and Software",
         "{A} will provide {B} with a laptop and [licences|licenses] for the software needed for "
         "the role. Those [licences|licenses] are held by {A}, may be used only for {A}'s "
         "business and end when the employment ends[; {B} shall not install {A}'s software on "
         "personal devices|]."),
        ("loan", "Salary Advance",
         "On request, {A} may advance up to [one month's|two weeks'] salary[ in an "
         "emergency|]. Any advance is [interest-free and is|] recovered by equal deductions from "
         "{B}'s pay over {n} [pay periods|months], and any balance outstanding when the "
         "employment ends is deducted from final pay."),
        ("loan", "Relocation Support",
         "{A} will reimburse relocation costs of up to {advance}. If {B} resigns within twelve "
         "months of the start date, {B} shall repay [that amount|a pro rata share of it][, "
         "without interest|]."),
        ("lease", "Accommodation",
         "[For the first three months|During the first {n} weeks] of the employment {A} will "
         "provide {B} with a furnished [flat|apartment] near the {city} office[ at no charge|; a "
         "contribution of {advance} per month will be deducted from pay]. The arrangement is a "
         "benefit of the employment, creates no tenancy and ends if the employment ends."),
        ("settlement", "Severance and Release",
         "If {A} ends the employment without cause after the probationary period, {B} will "
         "receive [three months'|six months'|twelve weeks'] salary as severance, [provided "
         "that|on condition that] {B} first signs a [general release of claims|settlement "
         "agreement and release] in {A}'s standard form."),
        ("services", "Prior Consultancy",
         "The [consultancy|independent contractor] agreement between {A} and {B} dated {refdate} "
         "ends on the day before the start date. From the start date {B} works as an employee[, "
         "not as an independent contractor|, on {A}'s payroll], and no further consultancy fees "
         "are payable."),
        ("sale_of_goods", "Staff Purchases",
         "{B} may buy {A}'s products for personal use at [a 20%|a 15%|the staff] discount, "
         "[but not for resale|provided they are not resold]; [the benefit ends with the "
         "employment|the benefit may be withdrawn at any time]."),
    ],
    "lease": [
        ("nda", "Confidentiality",
         "{B} shall keep the terms of {doc}, [including the rent and any incentives|in "
         "particular the rent and the rent-free period], confidential and shall not disclose "
         "them [to other occupiers of the building|to any third party] except to its "
         "professional advisers."),
        ("loan", "Fit-Out Contribution",
         "{A} shall contribute {advance} towards {B}'s fit-out works [on completion of those "
         "works|against invoices]. If {doc} ends [before the fifth anniversary of the "
         "commencement date|within the first {n} months] [because of {B}'s default|for any "
         "reason other than {A}'s breach], {B} shall repay the unamortised part of that "
         "contribution with interest at {rate} per annum."),
        ("loan", "Deposit Not a Loan",
         "The deposit is held as security only. [It is not a loan to {A}|{A} does not borrow "
         "it] and [earns no interest for {B}|is held in a protected scheme]; it is returned "
         "within {n} days after the end of the term, less any sums properly deducted."),
        ("sale_of_goods", "Inventory of Contents",
         "The [furniture, appliances and fittings|white goods and furniture] listed in the "
         "inventory [belong to|remain the property of] {A} and are let with the {prem}; [they "
         "are not sold to {B}|no title to them passes to {B}]. [At the end of the term {B} may "
         "buy them at the inventory valuation.|]"),
        ("services", "Building Services",
         "{A} shall provide [cleaning of the common parts, security and reception|lift "
         "maintenance, heating and cleaning of the common areas] [to the standard of a "
         "first-class building|during normal business hours]. The cost is recovered through the "
         "service charge and [is not a separate services contract|forms no part of the rent]."),
        ("software_license", "Access System",
         "{B}'s [staff|occupiers] may use the building's access-control [app|cards and app] to "
         "enter the building. [That use is subject to the app's terms of use|Access credentials "
         "are personal and may not be shared], and access ends when {doc} ends."),
        ("employment", "Occupier's Staff",
         "{B} is [solely|wholly] responsible for its [employees, contractors and visitors|staff "
         "and visitors] at the {prem}; nothing in {doc} [creates any employment relationship "
         "with {A}|makes any of them employees of {A}]."),
        ("settlement", "Previous Dispute",
         "The disagreement between the parties about [dilapidations|the service charge] under "
         "the previous lease was settled by agreement dated {refdate}. That settlement has no "
         "effect on {doc}[, and neither party may rely on it to withhold rent|]."),
    ],
    "loan": [
        ("nda", "Confidentiality",
         "{A} shall keep confidential the financial statements and other non-public "
         "information delivered by {B} under {doc} and [use it only to administer the "
         "Loan|disclose it only to its auditors, regulators and professional advisers]."),
        ("lease", "Assignment of Rents",
         "As further security, {B} assigns to {A} [all rents payable|the rental income] under "
         "the [leases|tenancies] of the property at {address}; [until an Event of Default {B} "
         "may collect those rents|{B} may collect them until {A} gives notice of default]."),
        ("sale_of_goods", "Purchase of Equipment",
         "The [advance|proceeds] shall be paid directly to the [vendor|seller] of the {goods} "
         "[against its invoice|on delivery]. {A} [is not a party to that purchase and gives no "
         "warranty about the goods|has no responsibility for the condition or delivery of the "
         "goods].", "equipment"),
        ("services", "Servicing",
         "{A} may appoint a servicing agent to collect [instalments|payments] and handle "
         "{B}'s enquiries. [The servicer's fees are paid by {A}|{B} pays no fee for servicing], "
         "and payment to the servicer is payment to {A}."),
        ("software_license", "Online Banking",
         "{B} may [view balances and make repayments|request drawdowns] through {A}'s online "
         "portal; use of the portal is subject to its [terms of use|licence terms], which do not "
         "vary {doc}."),
        ("employment", "Key Person",
         "[While any amount is outstanding|So long as the Loan remains outstanding], {B} shall "
         "ensure that {first} {last} [remains employed|continues] as its [chief "
         "executive|managing director], and a change in that role without {A}'s consent is an "
         "Event of Default."),
        ("settlement", "Refinanced Amount",
         "Part of the advance, {advance}, discharges the sum {B} owes under the settlement "
         "agreement with its former supplier dated {refdate}; {A} takes no part in that "
         "settlement and acquires no rights under it."),
    ],
    "services": [
        ("nda", "Confidentiality",
         "{B} shall keep confidential all non-public information it receives from {A} in "
         "connection with the Services, including {examples}, use it only to perform the "
         "Services, and return or destroy it when {doc} ends. [This clause survives for "
         "{years}.|]"),
        ("software_license", "Licence of Deliverables",
         "[On payment of the relevant fees|Once paid for], {B} grants {A} a [non-exclusive, "
         "perpetual, royalty-free|perpetual, irrevocable] [licence|license] to use, copy and "
         "modify the [software, templates and reports|code and documentation] delivered [as part "
         "of the Services|under {doc}][ for {A}'s internal business purposes|]. {B} keeps "
         "[ownership of its pre-existing tools|all rights in its background materials]."),
        ("software_license", "Client Systems",
         "{A} grants {B} a [limited|revocable], non-transferable right to access {A}'s [systems "
         "and software|IT systems] solely to perform the Services[, subject to {A}'s security "
         "policies|]; the right ends with {doc}."),
        ("employment", "Non-Solicitation",
         "During the term and for [six|twelve] months after it, neither party shall [solicit or "
         "hire|employ or engage] any member of the other's staff who worked on the Services[ "
         "without the other's written consent|]."),
        ("lease", "Use of Client Premises",
         "Where the Services are performed at {A}'s premises, {A} shall provide {B}'s personnel "
         "with [desk space|reasonable working space] and internet access free of charge; [this "
         "is not a lease and creates no tenancy|{B} acquires no right to occupy the premises]."),
        ("sale_of_goods", "Equipment and Materials",
         "[Hardware|Equipment] and materials that {B} supplies for the project are charged at "
         "cost plus [10%|15%], and ownership of them passes to {A} on payment; [all other "
         "equipment {B} brings to site remains its property|{B}'s own tools remain its "
         "property]."),
        ("loan", "Mobilisation Advance",
         "{A} shall pay {B} a [mobilisation|start-up] advance of {advance} on signature, which "
         "is set off against {B}'s first invoices. If {doc} ends before the advance is fully "
         "set off, {B} shall repay the balance within {n} days."),
        ("settlement", "Earlier Invoices",
         "The disagreement over invoices for work done before the Effective Date was resolved by "
         "a [settlement agreement|letter agreement] dated {refdate}; {doc} governs only work "
         "performed from the Effective Date."),
    ],
    "sale_of_goods": [
        ("software_license", "Software on Equipment",
         "Any software installed on equipment supplied under {doc} is licensed, not sold, to "
         "{B} [for use only with that equipment|solely to operate it], under the "
         "[manufacturer's|{A}'s] licence terms; everything else passes to {B} as set out "
         "below.", "equipment"),
        ("services", "Installation and Training",
         "[If the order so provides|Where ordered], {A} shall install the Products and train up "
         "to {n} members of {B}'s staff to operate them. [These services are included in the "
         "price|The installation charge is stated in the order] and are ancillary to the "
         "sale.", "equipment"),
        ("loan", "Deferred Payment",
         "{B} may pay the price in {inst} [monthly|equal monthly] instalments. Overdue "
         "instalments bear interest at {rate} per annum, and {A} [retains title to|keeps "
         "ownership of] the Products until the last instalment is paid."),
        ("nda", "Confidential Specifications",
         "{B}'s drawings and specifications are confidential; {A} shall use them only to "
         "manufacture the Products for {B} and [shall not disclose them to anyone|shall return "
         "them on request]."),
        ("lease", "Storage",
         "If {B} fails to collect the Products on the agreed date, {A} shall store them [at its "
         "warehouse|on its premises] for up to {n} days free of charge and afterwards at {B}'s "
         "cost and risk; storage does not delay the passing of title."),
        ("employment", "Personnel on Site",
         "{A}'s personnel who deliver or unload the Products at {B}'s site remain {A}'s "
         "employees[ and shall follow {B}'s site rules|]; {A} is responsible for their "
         "[wages and insurance|pay and safety equipment]."),
        ("settlement", "Earlier Shipment",
         "{B}'s claim about the rejected shipment of {refdate} was settled by a credit note; "
         "{doc} does not reopen or affect that settlement."),
    ],
    "software_license": [
        ("services", "Implementation Services",
         "[Any configuration, data migration or training services|Implementation and training, "
         "if ordered,] are [provided under a separate statement of work|charged separately at "
         "{hourly} per hour] and [do not change the licence terms|are not part of the licence "
         "fee]."),
        ("nda", "Confidentiality of the Software",
         "{product}, including its source code, structure and [documentation|algorithms], is "
         "[confidential information and a trade secret|the confidential information] of {A}; "
         "{B} shall not disclose it [to third parties|to anyone other than its authorised "
         "users]."),
        ("sale_of_goods", "Hardware",
         "Any servers or [terminals|scanning devices] used with {product} are bought under a "
         "separate purchase order; {doc} [covers only the right to use the software|governs "
         "only the software]."),
        ("loan", "Payment by Instalments",
         "[At {B}'s option|If {B} so elects], the licence fee may be paid in {inst} [monthly|"
         "quarterly] instalments; if an instalment is more than {n} days late, {A} may suspend "
         "[the licence keys|access] until payment is made[, and late sums bear interest at "
         "{rate}|]."),
        ("lease", "No Rental to Third Parties",
         "{B} shall not rent, lease, lend or host {product} for third parties[ or use it to run "
         "a service bureau|]."),
        ("employment", "Authorised Users",
         "{B} may allow its employees and [individual contractors|contractors] to use {product} "
         "within the licensed number of users and is responsible for their compliance with "
         "{doc}."),
        ("settlement", "Past Use",
         "On payment of a true-up fee of {fee}, {A} waives any claim for use of {product} "
         "beyond the licensed scope before the Effective Date; any later excess use is charged "
         "under the audit clause."),
    ],
    "settlement": [
        ("nda", "Existing Confidentiality Obligations",
         "The confidentiality [obligations|terms] of the [non-disclosure agreement|Mutual "
         "Non-Disclosure Agreement|confidentiality agreement] between the parties dated {refdate} "
         "[continue to apply|remain in force] [to all information exchanged in connection with "
         "{dispute}|and are not released by {doc}]."),
        ("loan", "Instalments and Default Interest",
         "If the Settlement Amount is paid in instalments, any overdue instalment bears interest "
         "at {rate} per annum from its due date, and if an instalment is more than {n} days "
         "late the whole unpaid balance becomes payable at once."),
        ("software_license", "No Licence",
         "Nothing in {doc} grants [either party|{B}] any [licence|license] under the other's "
         "[copyright, patents or trade marks|intellectual property]; [any future use requires a "
         "separate written licence|any future licence must be agreed separately]."),
        ("sale_of_goods", "Future Dealings",
         "Nothing in {doc} prevents the parties from trading with each other in future; any "
         "future [supply of goods|orders or services] will be on new terms agreed in writing and "
         "is not affected by the release."),
        ("services", "Mediator's Fees",
         "The fees of the mediator, {first} {last}, whose engagement ended when {doc} was "
         "signed, are shared equally; each party otherwise bears its own costs."),
        ("employment", "Reference and Company Property",
         "{B} shall provide a neutral reference confirming {A}'s job title and dates of "
         "employment, and {A} shall return [{B}'s laptop, security pass and documents|all "
         "property of {B}] within {n} days.", "employment_dispute"),
        ("employment", "Final Pay",
         "{B} shall pay {A}'s final salary and accrued holiday pay up to the termination date "
         "in the normal way; those sums are separate from the Settlement Amount.",
         "employment_dispute"),
    ],
}

# Negations and cross-references: sentences that name other document types
# and say this document is not one of them, or point to a related document.
# A tuple's second field is a requirement, as in ANCILLARY.
NOTES: dict[str, list] = {
    "nda": [
        "{Doc} is not a [letter of intent|commitment] to [buy, sell, lend or license "
        "anything|enter into the {deal}]; any transaction will be documented in a separate "
        "definitive agreement.",
        "This is not a services or consulting agreement: no work is commissioned and no fees "
        "are payable under {doc}.",
        "The term sheet dated {refdate} is not binding except for its confidentiality "
        "paragraph, which {doc} replaces.",
        "Information shared before the date of {doc}, including in the [email exchange|"
        "meeting] of {refdate}, is treated as {info}.",
        "No employment, lease, loan or licence arises from {doc}; it only governs the use of "
        "what is disclosed.",
    ],
    "employment": [
        "This [letter|contract] replaces the consultancy agreement dated {refdate}; from the "
        "start date {B} is an employee, not an independent contractor.",
        "The confidentiality and invention assignment agreement signed on {refdate} remains "
        "in force and is attached as Appendix A.",
        "The share option plan and the staff handbook are separate documents; where they "
        "conflict with {doc}, {doc} prevails.",
        "Any company car is provided under the car policy and is not leased or sold to {B}.",
        "A relocation loan, if {B} takes one, will be documented in a separate letter.",
    ],
    "lease": [
        "This is a lease of real property; it is not a sale, and {B} acquires no ownership of "
        "the {prem}.",
        "The deposit is not a loan and earns no interest for {B}.",
        "The property management agreement between {A} and its managing agent is a separate "
        "document and gives {B} no rights.",
        "The licence to occupy dated {refdate} ends on the day before the commencement date "
        "and is replaced by {doc}.",
        "Any option to purchase the {kind} is granted by separate deed; until it is exercised "
        "{doc} governs {B}'s occupation.",
    ],
    "loan": [
        ("This is not a lease: the {goods} belong to {B} from delivery, and the loan schedule "
         "is attached as Schedule 1.", "equipment"),
        ("The purchase of the {goods} is governed by the supply agreement dated {refdate}; "
         "{doc} governs only the financing of the price.", "equipment"),
        "The repayment schedule is attached, and the security over {collateral} is granted by "
        "a separate deed.",
        "Nothing in {doc} is a sale of any asset to {A}; {A}'s rights in {collateral} are "
        "security only.",
        "The earlier facility letter dated {refdate} is superseded, and all amounts owing "
        "under it are rolled into the Loan.",
    ],
    "services": [
        "The Non-Disclosure Agreement between the parties dated {refdate} continues to apply "
        "to all information exchanged under {doc}.",
        "{B} is not an employee of {A}; its personnel remain employed by {B}.",
        "No software is licensed under {doc} except as stated in the clause on deliverables.",
        "This is not a contract for the sale of goods: any hardware {B} uses remains {B}'s "
        "property.",
        "{Doc} is issued under the Master Services Agreement dated {refdate}, whose terms "
        "apply unless {doc} says otherwise.",
    ],
    "sale_of_goods": [
        "The payment terms are ordinary trade credit; they are not a loan, and no facility is "
        "made available to {B}.",
        ("Installation and commissioning are included in the price and do not form a separate "
         "services agreement.", "equipment"),
        "{Doc} is issued under the Master Supply Agreement dated {refdate}, whose terms "
        "prevail over any terms printed on {A}'s acknowledgement.",
        "{B} buys the goods outright; this is not a hire, lease or consignment arrangement.",
        ("Firmware in the equipment is licensed under the manufacturer's end-user terms; "
         "everything else passes to {B} with title to the goods.", "equipment"),
    ],
    "software_license": [
        "{product} is licensed, not sold; no title to the software or to any copy passes to "
        "{B}.",
        "Implementation services, if ordered, are provided under a separate statement of work "
        "dated {refdate}.",
        "The hardware on which {product} runs is purchased separately and is not covered by "
        "{doc}.",
        "{Doc} does not transfer ownership of any equipment or lease any equipment to {B}.",
        "The order form dated {refdate} and the support policy form part of {doc}.",
    ],
    "settlement": [
        "The confidentiality terms of the NDA dated {refdate} between the parties continue to "
        "apply.",
        "{Doc} deals only with the claims described in it; any other contract between the "
        "parties is unaffected and is not revived.",
        "Nothing in {doc} is a licence, lease, loan or new supply contract; it only ends the "
        "dispute.",
        "The mediation agreement of {refdate} is superseded, and each party bears its own costs "
        "of the mediation.",
        "Payment of the Settlement Amount is not a loan and carries no interest unless it is "
        "paid late.",
    ],
}
NOTE_HEADINGS = ["Related Documents", "Status of this Agreement", "For the Avoidance of Doubt",
                 "Other Agreements", "Nature of this Agreement", "Interpretation"]

# Paraphrases that say what the document does without the label's signature
# words (no "lease", "rent", "loan", "interest", "licence", "settlement",
# "salary", "services", "sell", "confidential" ... in the text itself).
PLAIN: dict[str, dict] = {
    "nda": {
        "purpose": [
            "{A} [will show|is about to show] {B} material about its {examples} so that {B} can "
            "[decide whether to pursue|weigh up] a {deal}. {B} will use what it sees for that "
            "decision alone, will not pass it on outside [the small team working on it|its own "
            "advisers], and must [hand back or wipe|return or erase] every copy [if asked|when "
            "talks stop].",
            "[While|As long as] the parties [explore|talk about] a {deal}, anything either side "
            "[learns|is told] about the other's {examples} stays [between them|private]: it may "
            "not be [published, shared or exploited|used for any other purpose or shown to "
            "outsiders] for {years}, and nothing here obliges anyone to go ahead with the deal.",
            "{B} [promises|undertakes] not to reveal or exploit the {examples} that {A} hands "
            "over for the {deal} talks, and to give access only to staff who are working on the "
            "deal and who are bound by [the same|equivalent] restrictions.",
        ],
        "clauses": [
            ("Permitted Use", "The material [supplied|shown] by {A} may be used [only|solely] to "
             "[evaluate|assess] the {deal} and must not be used to compete with {A} or to [win "
             "its customers|approach its suppliers]."),
            ("Handing Back", "[When asked, or when the talks end|On request and in any event "
             "when discussions stop], {B} shall return or destroy everything it received from "
             "{A} and [confirm that in writing|certify that it has done so]."),
            ("Exceptions", "These restrictions do not cover material that is already public, "
             "that {B} [already had|knew] without restriction, or that a court or regulator "
             "[orders|requires] {B} to produce."),
        ],
    },
    "employment": {
        "purpose": [
            "{B} [joins|will join] {A} as {job} on {date}, working {hours} hours a week "
            "[under the direction of|reporting to] the {boss}, for {salary} a year paid through "
            "payroll [with tax and social security deducted|after tax deductions], plus "
            "{vacation} days' paid holiday.",
            "From {date}, {p2} [takes up|will take up] the [post|position] of {job} at {A}'s "
            "{city} [office|site]. Pay is {salary} a year, paid {payfreq}; the first {probation} "
            "months are a trial period, and after that either side may end the arrangement on "
            "{notice} notice.",
            "{B} will serve as {job} on the staff terms below, earn {salary} annually [plus a "
            "bonus of up to {pct}|and join the pension scheme], and give full working time to "
            "{A}'s business.",
        ],
        "clauses": [
            ("Hours and Holiday", "Normal hours are {hours} per week[, Monday to Friday|]. {B} "
             "receives {vacation} days of paid holiday a year [in addition to public "
             "holidays|plus bank holidays] and [statutory sick pay|full pay for up to {sickdays} "
             "days of sickness]."),
            ("Pay", "{B}'s pay is {salary} a year, paid {payfreq} by bank transfer after "
             "deduction of income tax and national insurance, and reviewed each year."),
            ("Ending the Arrangement", "After the trial period either side may end {B}'s "
             "engagement on {notice} written notice; {A} may pay basic pay in lieu of notice[ "
             "or dismiss {B} without notice for gross misconduct|]."),
        ],
    },
    "lease": {
        "purpose": [
            "{A} [allows|permits] {B} to occupy the {kind} at {address} for {lease_term} from "
            "{date}, in return for a monthly payment of {rent} due in advance on the {dom} of "
            "each month, plus a [deposit|sum held as security] of {deposit}.",
            "The {kind} at {address} passes into the occupation of {p2} for {use} for "
            "{lease_term}. Every month {p2} pays {p1} {rent} in advance; {p1} keeps the roof and "
            "structure in repair, and {p2} keeps the inside [clean and tidy|in good order].",
            "For {lease_term}, {p2} [will have exclusive possession of|may occupy] [approximately "
            "{sqft} square feet|the {kind}] at {address}, paying {rent} a month [and a share of "
            "the building's running costs|plus its share of the service charge].",
        ],
        "clauses": [
            ("Payments", "Each monthly payment of {rent} is due in advance on the {dom} of the "
             "month; [a late fee of {late} applies after {n} days|sums paid late incur {late}], "
             "and the figure rises by {pct2} on each anniversary."),
            ("Occupation and Use", "{B} may use the {kind} only for {use}, must not part with "
             "possession or make structural changes without {A}'s written consent, and must "
             "give {A} access on reasonable notice."),
            ("End of Term", "At the end of the term {B} shall vacate the {kind}, return all "
             "keys and leave it in the condition it was in at the start, fair wear and tear "
             "excepted; {A} then returns the security sum less any deductions."),
        ],
    },
    "loan": {
        "purpose": [
            "{A} advances {principal} to {B} on {date}. {B} pays it back in {inst} monthly "
            "amounts of {inst_amt}, which include a charge of {rate} a year on the balance still "
            "owed; if a payment is {n} days late, the whole balance becomes payable at once.",
            "{p2} acknowledges that it owes {p1} {principal}, advanced on {date} for {purpose}, "
            "and agrees to repay it [in full by {date2}|over {inst} months], together with a "
            "charge of {rate} per annum on the unpaid balance.",
            "An advance of {principal} will be paid to {B} to finance {purpose}. Repayment is "
            "spread over {inst} months from {date}, and {B}'s obligations are backed by "
            "{collateral}.",
        ],
        "clauses": [
            ("Repayment Schedule", "{B} shall pay {inst_amt} on the {dom} of each month for "
             "{inst} months; each payment is applied first to the agreed charge of {rate} and "
             "then to the amount advanced."),
            ("Early Repayment", "{B} may pay off [the whole balance|all or part of what it owes] "
             "early on {n} days' notice, [without penalty|paying a fee of {fee_pct} of the "
             "amount paid early]."),
            ("Default", "If {B} fails to pay any amount when due or becomes insolvent, {A} may "
             "call for the whole outstanding balance at once and enforce its security over "
             "{collateral}."),
        ],
    },
    "services": {
        "purpose": [
            "{B} will carry out {service} work for {A} from {date}, charging {hourly} for each "
            "hour worked, invoiced monthly; {B} [uses its own staff and equipment|provides its "
            "own people and tools] and decides how the work is done.",
            "{p1} appoints {p2} to produce {deliverable} by {date2} for a fixed fee of {fee}[, "
            "paid on acceptance|]. {p2} works independently, handles its own tax, and fixes "
            "anything that does not meet the brief at no extra cost.",
            "Every month {B} takes care of {A}'s {service} work within agreed response times, "
            "[for a monthly charge of {fee}|at {hourly} per hour], and either side may end the "
            "arrangement on {notice} notice.",
        ],
        "clauses": [
            ("Work to Be Done", "{B} shall perform the tasks listed in Schedule 1 [with "
             "reasonable skill and care|to good industry standards], using suitably qualified "
             "people, and hand over {deliverable} no later than {date2}."),
            ("Charges", "{A} shall pay {hourly} per hour for time actually spent, invoiced "
             "monthly in arrears and payable within {n} days, plus pre-approved travel costs."),
            ("Independence", "{B} works independently and is not on {A}'s payroll; {B} is "
             "responsible for its own taxes, insurance and people."),
        ],
    },
    "sale_of_goods": {
        "purpose": [
            "{A} delivers {qty} units of {goods} to {B} {incoterm} {port} by {date2} at "
            "{unit_price} each; ownership passes when {B} pays the invoice, risk on delivery, "
            "and anything defective within {warranty} is replaced free of charge.",
            "In exchange for {total}, {p1} transfers to {p2} all its title to {goods}[, free of "
            "any charges or claims|], to be delivered to {p2}'s [warehouse|premises] by "
            "{date2}.",
            "{p2} orders {goods} from {p1} by written order, at {unit_price} per unit, "
            "delivered {incoterm} {port}; an order is binding once {p1} confirms it.",
        ],
        "clauses": [
            ("Delivery and Ownership", "The {goods} are delivered {incoterm} {port}. Ownership "
             "passes to {B} when {A} receives payment in full, and risk passes on delivery."),
            ("Defects", "{A} promises that the {goods} [are free from defects|meet the agreed "
             "specification] for {warranty} after delivery and will repair, replace or refund "
             "any faulty item at its own cost."),
            ("Price and Invoicing", "The price is {unit_price} per unit plus tax and freight; "
             "{A} invoices on shipment and {B} pays within {n} days."),
        ],
    },
    "software_license": {
        "purpose": [
            "Up to {seats} named users at {B} may install and run the {product} [application|"
            "tool] on company devices for {term}, for an annual fee of {license_fee}; copying, "
            "reverse engineering and passing it on to third parties are forbidden, and all "
            "rights in {product} stay with {A}.",
            "{A} gives {B} permission to use {product}, its {platform}, within {B}'s own "
            "organisation on up to {seats} devices; {B} acquires no ownership of {product} or "
            "of any copy of it.",
            "Use of {product} is granted to {B} for an annual fee of {license_fee}[, with "
            "updates and support included|]. {B} may not [modify, decompile or rent out|copy, "
            "adapt or resell] the application, and the permission ends if the fee is not paid.",
        ],
        "clauses": [
            ("Permitted Use", "{B} may use {product} only for its own internal business, by up "
             "to {seats} named users, and may make one backup copy; logins may not be shared."),
            ("Restrictions", "{B} shall not copy, modify or decompile {product}, make it "
             "available to third parties, or remove {A}'s notices."),
            ("Ownership", "{A} keeps all rights in {product}, its documentation and any "
             "updates; {B} gets only a right of use, not ownership."),
        ],
    },
    "settlement": {
        "purpose": [
            "To bring {dispute} to an end, {B} will pay {A} {settle_amt} within {n} days; once "
            "paid, {A} gives up any further demand concerning those events, and neither side "
            "admits [fault|any wrongdoing].",
            "The parties close [the proceedings in {court}|Case No. {caseno}] as follows: {B} "
            "pays {settle_amt} [in {sinst} instalments|within {n} days], the proceedings are "
            "withdrawn with each side bearing its own costs, and neither may sue again over "
            "the same facts.",
            "Against payment of {settle_amt}, {p1} discharges {p2} from any liability "
            "connected with {dispute} and promises not to start any new proceedings on those "
            "facts; the payment does not admit liability.",
        ],
        "clauses": [
            ("Payment", "{B} shall transfer {settle_amt} to the account nominated by {A} within "
             "{n} days; if it is late, {A} may enter judgment for the full sum."),
            ("Ending the Proceedings", "Within {n} days of receiving payment, {A} shall "
             "withdraw the proceedings with prejudice, each side paying its own costs."),
            ("No Admission", "The payment is not an admission of liability by {B}, which "
             "maintains its position on the merits."),
        ],
    },
}

# Titles and document names for paraphrased items: they name no type.
GENERIC_TITLES = [("Agreement", "this Agreement"), ("Letter Agreement", "this letter agreement"),
                  ("Memorandum of Agreement", "this Memorandum"), ("Deed", "this Deed"),
                  ("Agreement No. {sow}", "this Agreement"), ("Memorandum of Terms", "this Memorandum"),
                  ("Agreement", "this document")]

SIGNATURES = [
    "IN WITNESS WHEREOF the parties have [executed|signed] {doc} [on the date first written "
    "above|as of {date}].\n[Signed for and on behalf of|For] {p1}: ____________ [Name|By]: "
    "{first} {last}, [Director|Authorised Signatory|Chief Executive]\n[Signed for and on behalf "
    "of|For] {p2}: ____________",
    "Signed by the parties on {date}.\n{p1} ____________\n{p2} ____________[\nWitness: {first} "
    "{last}|]",
    "[AGREED|Agreed and accepted] by {p1} and {p2} on {date}. [Each party has received a signed "
    "copy.|Counterparts and electronic signatures are valid.]",
]
# Page furniture: added verbatim (not rendered), so may contain brackets.
PAGE_HEADERS = ["Page {page} of {pages}", "- {page} -", "{page}", "Execution Version",
                "DRAFT {stamp}", "Privileged & Confidential", "Subject to contract",
                "Doc ID {docid}", "CONFIDENTIAL", "Initials: ____ / ____",
                "[Stamp: RECEIVED {stamp}]", "Ref: {docid} v{ver}", "Page {page}"]

# Goods that are machines or devices: only these get firmware, installation and
# equipment-finance wording. A loan that finances equipment names it (bare plural).
EQUIPMENT_GOODS = {"industrial pumps", "laptop computers", "solar panels", "a used forklift truck",
                   "LED light fixtures", "commercial ovens", "hydraulic spare parts"}
FINANCED_EQUIPMENT = ["forklift trucks", "delivery vans", "industrial pumps", "commercial ovens",
                      "CNC milling machines", "solar panels", "laptop computers", "excavators",
                      "refrigerated trailers", "printing presses"]


def allowed(requirement: str | None, ctx: dict) -> bool:
    if requirement == "employment_dispute":
        return ctx["dispute"] in EMPLOYMENT_DISPUTES
    if requirement == "equipment":
        return ctx["equipment"]
    return True


# Openings shared by every type; the title and role names carry the label.
PREAMBLES = [
    "This {title} (the \"Agreement\") is [made|entered into] [on|as of] {date} "
    "[by and |]between {p1}, {p1desc} (\"{A}\"), and {p2}, {p2desc} (\"{B}\").",
    "{TITLE}\n\nThis {title} is dated {date} and is [made |]between {p1} (\"{A}\") and "
    "{p2} (\"{B}\").",
    "THIS {TITLE} is made on {date} BETWEEN (1) {p1} of {address} (the \"{A}\") and (2) "
    "{p2} of {address2} (the \"{B}\").",
    "Parties: {p1} (\"{A}\") and {p2} (\"{B}\"). Effective date: {date}.",
    "{title} between {p1} and {p2}, [effective|dated] {date}.",
]
HEADING_STYLES = [
    "{num}. {heading}. {body}", "{num}. {HEADING}. {body}",
    "Section {num}. {heading}. {body}", "{num}.{sub} {body}", "{body}",
    "Clause {num} ({heading}): {body}", "{heading}\n{body}",
    "ARTICLE {num} - {HEADING}\n{body}",
]

# ---------------------------------------------------------------------------
# Template rendering
# ---------------------------------------------------------------------------
ALT_RE = re.compile(r"\[([^\[\]]*)\]")


def render(rng: random.Random, template: str, ctx: dict) -> str:
    """Expand "[a|b]" alternatives (innermost first) and fill "{slot}"s.

    Slot values may themselves contain slots or alternatives (a subject such
    as "the {info}"), so expansion repeats until nothing is left.
    """
    text = template
    for _ in range(5):
        while ALT_RE.search(text):
            text = ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), text)
        if "{" not in text:
            break
        text = text.format_map(ctx)
    return tidy(text)


def tidy(text: str) -> str:
    """Clean up spacing left by empty alternatives."""
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +([,.;:)])", r"\1", text)
    text = re.sub(r"\( +", "(", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\.\.(?!\.)", ".", text)  # "Co." at the end of a sentence
    return text.strip()


def capitalize_first(text: str) -> str:
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------
# Item context: every slot a template may ask for
# ---------------------------------------------------------------------------
def fmt_money(cur: str, value: float, cents: bool = False) -> str:
    return f"{cur}{value:,.2f}" if cents else f"{cur}{int(round(value)):,}"


def log_uniform(rng: random.Random, lo: float, hi: float, digits: int) -> float:
    """Amounts spread over orders of magnitude, rounded like real figures."""
    value = 10 ** rng.uniform(math.log10(lo), math.log10(hi))
    step = 10 ** max(0, int(math.log10(value)) - digits + 1)
    return max(step, round(value / step) * step)


def ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def make_dates(rng: random.Random, style: int) -> tuple[str, str, str]:
    """A start date, a later one (deadline, maturity, expiry) and an earlier one
    (a related agreement), all in one style."""
    start = datetime.date(2019, 1, 1) + datetime.timedelta(days=rng.randrange(9 * 365))
    later = start + datetime.timedelta(days=rng.randrange(30, 1500))
    earlier = start - datetime.timedelta(days=rng.randrange(20, 900))
    return format_date(start, style), format_date(later, style), format_date(earlier, style)


def format_date(day: datetime.date, style: int) -> str:
    y, m, d = day.year, day.month, day.day
    if style == 0:
        return f"{MONTHS[m - 1]} {d}, {y}"
    if style == 1:
        return f"{d} {MONTHS[m - 1]} {y}"
    if style == 2:
        return f"{y}-{m:02d}-{d:02d}"
    return f"the {ordinal(d)} day of {MONTHS[m - 1]}, {y}"


def make_person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def make_company(rng: random.Random) -> str:
    return f"{rng.choice(CO_PREFIX)} {rng.choice(CO_CORE)} {rng.choice(CO_SUFFIX)}"


def make_address(rng: random.Random) -> str:
    unit = rng.choice(["", "", f"Suite {rng.randint(100, 950)}, ", f"Unit {rng.randint(1, 40)}, "])
    return f"{unit}{rng.randint(2, 980)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"


def party(rng: random.Random, person_prob: float) -> tuple[str, str]:
    """A party name and its description for a preamble."""
    if rng.random() < person_prob:
        return make_person(rng), rng.choice([
            f"an individual residing in {rng.choice(CITIES)}",
            f"of {make_address(rng)}", "an individual"])
    return make_company(rng), rng.choice(COMPANY_DESCS)


def short_name(name: str) -> str:
    """How a document refers to a party: a company without its suffix, a person by surname."""
    for suffix in CO_SUFFIX:
        if name.endswith(" " + suffix):
            return name[:-len(suffix) - 1]
    return name.split()[-1]


def make_context(rng: random.Random, label: str, plain: bool = False) -> dict:
    """Every slot a template may ask for. ``plain``: parties are called by their
    names and the title and document name say nothing about the type."""
    spec = SPECS[label]
    cur = rng.choice(CURRENCIES)
    law, venue = rng.choice(JURISDICTIONS)
    date, date2, refdate = make_dates(rng, rng.choices([0, 1, 2, 3], weights=[4, 4, 2, 1])[0])
    A, B = rng.choice(spec["roles"])
    p1_person, p2_person = spec["persons"]
    dispute = rng.choice(DISPUTES)
    if A == "Employee":  # the "Employee" role only fits an employment dispute
        dispute = rng.choice(EMPLOYMENT_DISPUTES)
    if label == "settlement" and dispute in EMPLOYMENT_DISPUTES:  # claimant is a person
        p1_person = 1.0
    p1, p1desc = party(rng, p1_person)
    p2, p2desc = party(rng, p2_person)
    doc = rng.choice(spec["docs"])
    sow = str(rng.randint(1, 42))
    # A title may name a statement of work number; fill it now so TITLE can be upper-cased.
    if plain:
        title, doc = rng.choice(GENERIC_TITLES)
        A, B = short_name(p1), short_name(p2)
        if A == B:
            A, B = p1, p2
    else:
        title = rng.choice(spec["titles"])
    title = title.replace("{sow}", sow)
    product = rng.choice(PRODUCT_A) + rng.choice(PRODUCT_B)
    principal = log_uniform(rng, 3000, 12_000_000, 2)
    rate_pct = rng.choice([3.5, 4.75, 5.0, 6.25, 6.5, 7.9, 8.25, 9.5, 11.0, 12.0])
    inst = rng.choice([6, 12, 18, 24, 36, 48, 60, 84, 120])
    qty = rng.choice([12, 24, 40, 50, 100, 120, 250, 400, 500, 750, 1000, 2400, 5000, 10000])
    # Dearer goods come in smaller quantities, keeping order totals plausible.
    unit_price = log_uniform(rng, 1.5, max(20, 2_000_000 / qty), 3)
    rent = log_uniform(rng, 600, 45000, 2)
    ctx = {
        # parties and roles
        "p1": p1, "p2": p2, "p1desc": p1desc, "p2desc": p2desc, "A": A, "B": B,
        "A_UP": A.upper(), "first": rng.choice(FIRST_NAMES),
        "first2": rng.choice(FIRST_NAMES), "last": rng.choice(LAST_NAMES),
        # document identity
        "doc": doc, "Doc": capitalize_first(doc), "DOC": doc.upper(),
        "title": title, "TITLE": title.upper(),
        "subject": rng.choice(spec["subjects"]),
        # places, dates, periods
        "law": law, "venue": venue, "city": rng.choice(CITIES),
        "address": make_address(rng), "address2": make_address(rng),
        "date": date, "date2": date2, "refdate": refdate,
        "advance": fmt_money(cur, log_uniform(rng, 2000, 400_000, 2)),
        "n": rng.choice(SMALL_DAYS), "notice": rng.choice(NOTICES),
        "term": rng.choice(TERMS), "years": rng.choice(YEARS),
        "cap": rng.choice([fmt_money(cur, log_uniform(rng, 10000, 5_000_000, 2)),
                           "the fees paid under {doc} in the preceding twelve months",
                           "the total amount paid or payable under {doc}"]),
        "pct2": rng.choice(["2%", "3%", "5%", "2.5%", "10%"]),
        "uptime": rng.choice(["99.5%", "99.9%", "99.95%", "99%"]),
        "fee": fmt_money(cur, log_uniform(rng, 1500, 900_000, 2)),
        # nda
        "deal": rng.choice(DEALS), "info": rng.choice(INFO_TERMS),
        "examples": rng.choice(INFO_EXAMPLES),
        # employment
        "job": rng.choice(JOBS), "boss": rng.choice(BOSSES),
        "salary": fmt_money(cur, rng.randrange(38000, 262000, 500)),
        "payfreq": rng.choice(PAY_FREQ), "hours": rng.choice(["35", "37.5", "40", "38"]),
        "pt_hours": rng.choice(["16", "20", "24", "30"]),
        "vacation": rng.choice(["15", "18", "20", "22", "25", "28"]),
        "probation": rng.choice(["3", "6", "4"]),
        "short_notice": rng.choice(["one week's", "seven (7) days'", "two weeks'"]),
        "covenant": rng.choice(["six (6) months", "twelve months", "one year", "nine months"]),
        "radius": rng.choice(["50 miles", "25 kilometres", "the United Kingdom",
                              "the metropolitan area where {A} operates", "the same city",
                              "100 miles of any office of {A}"]),
        "pct": rng.choice(["10%", "15%", "20%", "25%", "30%", "40%"]),
        "shares": f"{rng.randrange(2000, 90000, 500):,}", "remote": rng.choice(["1", "2", "3"]),
        "sickdays": rng.choice(["10", "12", "15", "20"]),
        # lease
        "prem": rng.choice(PREMISES_TERMS), "kind": rng.choice(PREMISES_KINDS),
        "rent": fmt_money(cur, rent), "use": rng.choice(USES),
        "sqft": f"{rng.randrange(450, 60000, 50):,}",
        "deposit": fmt_money(cur, rent * rng.choice([1, 1.5, 2, 3])),
        "lease_term": rng.choice(["twelve (12) months", "one year", "two (2) years",
                                  "five years", "ten (10) years", "six months", "three years",
                                  "18 months", "fifteen years"]),
        "dom": ordinal(rng.choice([1, 1, 5, 7, 15])),
        "late": rng.choice([fmt_money(cur, rng.randrange(25, 300, 25)),
                            "5% of the overdue amount", "4% of the late payment"]),
        "holdover": fmt_money(cur, rent * 1.5), "cam": fmt_money(cur, rent * 0.12),
        # loan
        "principal": fmt_money(cur, principal), "rate": f"{rate_pct:g}%", "inst": str(inst),
        "inst_amt": fmt_money(cur, principal * (1 + rate_pct / 100 * inst / 24) / inst, True),
        "collateral": rng.choice(COLLATERAL), "purpose": rng.choice(LOAN_PURPOSES),
        "fee_pct": rng.choice(["1%", "2%", "0.5%", "3%"]),
        "equipment": False,
        "guarantor": make_person(rng),
        # services
        "service": rng.choice(SERVICES_KINDS), "deliverable": rng.choice(DELIVERABLES),
        "hourly": fmt_money(cur, rng.randrange(60, 425, 5)),
        "hrs": rng.choice(["10", "20", "40", "60"]), "sow": sow,
        # sale of goods
        "goods": rng.choice(GOODS), "qty": f"{qty:,}",
        "unit_price": fmt_money(cur, unit_price, unit_price < 100),
        "total": fmt_money(cur, qty * unit_price), "incoterm": rng.choice(INCOTERMS),
        "port": rng.choice(CITIES), "warranty": rng.choice(WARRANTIES),
        "po": f"{rng.choice(['PO', 'P', '4500', 'ORD'])}-{rng.randint(1000, 99999)}",
        # software licence
        "product": product, "PRODUCT": product.upper(),
        "seats": str(rng.choice([3, 5, 10, 25, 50, 100, 250, 500, 1000, 2500])),
        "license_fee": fmt_money(cur, log_uniform(rng, 300, 600_000, 2)),
        "sub_term": rng.choice(SUB_TERMS), "platform": rng.choice(PLATFORMS),
        # settlement
        "dispute": dispute, "court": rng.choice(COURTS),
        "caseno": f"{rng.randint(1, 9)}:{rng.randint(19, 25)}-cv-{rng.randint(1000, 99999):05d}",
        "settle_amt": fmt_money(cur, log_uniform(rng, 2000, 2_500_000, 2)),
        "sinst": rng.choice(["two", "three", "four", "six", "ten", "twelve"]),
    }
    if label == "sale_of_goods":
        ctx["equipment"] = ctx["goods"] in EQUIPMENT_GOODS
    elif label == "loan" and rng.random() < 0.3:  # equipment finance: name what is bought
        goods = rng.choice(FINANCED_EQUIPMENT)
        ctx.update(equipment=True, goods=goods, purpose=f"the purchase of {goods}",
                   collateral=f"the {goods} bought with the advance")
    return ctx


# ---------------------------------------------------------------------------
# Building blocks. A section is (heading, body); "kind" says where it came
# from: "label" (the type's own clauses), "anc" (a clause of another type
# inside this one), "shared" (boilerplate) or "note" (negation/cross-reference).
# ---------------------------------------------------------------------------
def format_section(rng: random.Random, heading: str, body: str, num: int, style: str) -> str:
    return style.format(num=num, sub=rng.randint(1, 9), heading=heading,
                        HEADING=heading.upper(), body=body)


def label_clause_pool(label: str, plain: bool) -> list[tuple[str, str]]:
    """The type's own clauses; a paraphrased item draws its own wording first."""
    if plain:
        return PLAIN[label]["clauses"] + SPECS[label]["clauses"]
    return SPECS[label]["clauses"]


def pick_label_clauses(rng, label, ctx, plain, count) -> list[tuple[str, str, str]]:
    pool = label_clause_pool(label, plain)
    if plain:  # every paraphrased clause first, in random order, then the usual ones
        own = list(PLAIN[label]["clauses"])
        rng.shuffle(own)
        rest = rng.sample(SPECS[label]["clauses"], len(SPECS[label]["clauses"]))
        ordered = own + rest
    else:
        ordered = rng.sample(pool, len(pool))
    return [("label", h, render(rng, b, ctx)) for h, b in ordered[:count]]


def ancillary_entries(label: str, ctx: dict) -> list[tuple]:
    return [e for e in ANCILLARY[label] if allowed(e[3] if len(e) > 3 else None, ctx)]


def pick_ancillary(rng, label, ctx, count) -> list[tuple[str, str, str]]:
    """Clauses of other types, each from a different one."""
    entries = ancillary_entries(label, ctx)
    entries = rng.sample(entries, len(entries))
    picked, origins = [], set()
    for origin, heading, body, *_ in entries:
        if len(picked) == count:
            break
        if origin in origins:
            continue
        origins.add(origin)
        picked.append(("anc", heading, render(rng, body, ctx)))
    return picked


def pick_shared(rng, label, ctx, count) -> list[tuple[str, str, str]]:
    headings = rng.sample(SPECS[label]["shared"], count)
    return [("shared", h, render(rng, SHARED_CLAUSES[h], ctx)) for h in headings]


def pick_note(rng, label, ctx) -> str:
    notes = [(n, None) if isinstance(n, str) else n for n in NOTES[label]]
    return render(rng, rng.choice([n for n, req in notes if allowed(req, ctx)]), ctx)


def purpose_text(rng, label, ctx, plain) -> str:
    pool = PLAIN[label]["purpose"] if plain else SPECS[label]["purpose"]
    return render(rng, rng.choice(pool), ctx)


def assemble(rng, parts: list[str], sections: list[tuple[str, str, str]], target: int,
             style: str, start: int, min_label: int) -> tuple[str, list[str]]:
    """Add sections in priority order while the text stays under target words.

    ``sections`` is in priority order: the first ``min_label`` label clauses are
    always kept, then the rest as long as they fit. An ancillary clause is kept
    only while it leaves the type's own clauses in the majority. Kept sections
    are then numbered in document order: label clauses lead, the others are
    spread among them.
    """
    kept: list[tuple[str, str, str]] = []
    used = word_count("\n".join(parts))
    headings = set()
    for kind, heading, body in sections:
        if heading in headings:
            continue
        n_label = sum(k == "label" for k, _, _ in kept)
        n_anc = sum(k == "anc" for k, _, _ in kept)
        must = kind == "label" and n_label < min_label
        if kind == "anc" and n_anc + 1 >= max(n_label, min_label):
            continue
        words = word_count(body) + len(heading.split()) + 2
        if not must and used + words > target:
            continue
        kept.append((kind, heading, body))
        headings.add(heading)
        used += words
    # Document order: the first label clause opens; the rest are shuffled.
    labels = [s for s in kept if s[0] == "label"]
    others = [s for s in kept if s[0] != "label"]
    tail = labels[1:] + others
    rng.shuffle(tail)
    ordered = labels[:1] + tail
    body = [format_section(rng, h, b, start + i, style) for i, (_, h, b) in enumerate(ordered)]
    return "\n".join(parts + body), [k for k, _, _ in ordered]


DOC_STYLES = ["{num}. {heading}. {body}", "{num}. {HEADING}. {body}",
              "Section {num}. {heading}. {body}", "{num}. {body}", "{num}. {heading}\n{body}",
              "Clause {num} ({heading}): {body}", "ARTICLE {num} - {HEADING}\n{body}"]


def mixed_sections(rng, label, ctx, plain, n_label, n_anc, n_shared, note_prob):
    """Priority-ordered sections for a document or an excerpt."""
    own = pick_label_clauses(rng, label, ctx, plain, n_label)
    anc = pick_ancillary(rng, label, ctx, n_anc)
    shared = pick_shared(rng, label, ctx, n_shared)
    notes = []
    if rng.random() < note_prob:
        notes = [("note", rng.choice(NOTE_HEADINGS), pick_note(rng, label, ctx))]
    rest = own[2:] + shared + notes
    rng.shuffle(rest)
    # Own clauses first (at least two survive), then one borrowed clause, then the rest.
    return own[:2] + anc[:1] + rest + anc[1:]


def opening_text(rng, ctx) -> str:
    return render(rng, rng.choice(PREAMBLES), ctx)


def recitals_text(rng, spec, ctx, lo=2, hi=4) -> str:
    # Keep the recitals in their written order: the story reads top to bottom.
    picked = [spec["recitals"][i] for i in
              sorted(rng.sample(range(len(spec["recitals"])), rng.randint(lo, hi)))]
    recitals = [render(rng, r, ctx) for r in picked]
    style = rng.randrange(3)
    if style == 0:
        body = ";\n".join(f"WHEREAS, {r}" for r in recitals)
        text = body + ";\nNOW, THEREFORE, [in consideration of the mutual covenants " \
                      "herein, |]the parties agree as follows:"
    elif style == 1:
        body = "\n".join(f"({chr(65 + i)}) {capitalize_first(r)}." for i, r in enumerate(recitals))
        text = "[Background|BACKGROUND|Recitals]\n" + body
    else:
        body = " ".join(f"{chr(65 + i)}. {capitalize_first(r)}." for i, r in enumerate(recitals))
        text = "RECITALS: " + body
    return render(rng, text, ctx)


# ---------------------------------------------------------------------------
# Input forms. Each returns the user text for one item.
# ---------------------------------------------------------------------------
def form_document(rng, label, ctx, plain) -> str:
    """A whole agreement: opening, maybe recitals, purpose, mixed sections, maybe signatures."""
    spec = SPECS[label]
    target = rng.randint(150, MAX_WORDS - 20)
    parts = [opening_text(rng, ctx)]
    if rng.random() < 0.35:
        parts.append(recitals_text(rng, spec, ctx, 2, 3))
    purpose = purpose_text(rng, label, ctx, plain)
    if rng.random() < 0.2:
        purpose += " " + pick_note(rng, label, ctx)
    parts.append(purpose)
    n_anc = rng.choices([0, 1, 2], weights=[15, 50, 35])[0]
    sections = mixed_sections(rng, label, ctx, plain, rng.randint(3, 5), n_anc,
                              rng.randint(1, 2), 0.3)
    text, _ = assemble(rng, parts, sections, target, rng.choice(DOC_STYLES), 1, 2)
    if rng.random() < 0.4:
        signature = render(rng, rng.choice(SIGNATURES), ctx)
        if word_count(text) + word_count(signature) <= MAX_WORDS - 10:
            text += "\n" + signature
    return text


def form_excerpt(rng, label, ctx, plain) -> str:
    """Several clauses cut from the middle of a longer agreement."""
    target = rng.randint(90, 210)
    parts = []
    lead = rng.random()
    if lead < 0.25:  # the tail of the previous page's clause
        tail = render(rng, SHARED_CLAUSES[rng.choice(SPECS[label]["shared"])], ctx).split()
        cut = rng.randint(6, min(14, len(tail) - 1))
        parts.append("..." + " ".join(tail[-cut:]))
    elif lead < 0.4:
        parts.append(rng.choice(["(continued)", "[...]", "Extract:", f"Excerpt from {ctx['title']}:"]))
    n_anc = rng.choices([0, 1, 2], weights=[25, 55, 20])[0]
    sections = mixed_sections(rng, label, ctx, plain, rng.randint(2, 4), n_anc,
                              rng.randint(0, 1), 0.3)
    text, _ = assemble(rng, parts, sections, target, rng.choice(HEADING_STYLES[:4] + DOC_STYLES),
                       rng.randint(3, 16), 2)
    return text


def form_opening(rng, label, ctx, plain) -> str:
    """The first page: opening, recitals, purpose, the first clauses."""
    spec = SPECS[label]
    target = rng.randint(90, 200)
    parts = [opening_text(rng, ctx), recitals_text(rng, spec, ctx)]
    if rng.random() < 0.6 or plain:
        parts.append(purpose_text(rng, label, ctx, plain))
    sections = mixed_sections(rng, label, ctx, plain, rng.randint(2, 3),
                              rng.choice([0, 1]), 0, 0.25)
    text, _ = assemble(rng, parts, sections, target, rng.choice(DOC_STYLES), 1, 1)
    return text


FORWARD = ("-----Original Message-----\nFrom: {first2} {last}\nSent: {date}\nTo: [{first}|Legal|"
           "Contracts team]\n")
PLAIN_INTROS = ["In plain terms:", "Short version:", "As I read it:", "What it does:",
                "Summary of the deal:"]
QUOTE_INTROS = ["The key clause reads:", "Clause {num} says:", "For reference, section {num}:",
                "Relevant wording:", "The draft says:"]
ANC_INTROS = ["It also has a clause headed \"{heading}\":", "Note the {heading} clause:",
              "One more thing, the {heading} wording:"]


def form_email(rng, label, ctx, plain) -> str:
    """An email or file note about the document, sometimes quoting it."""
    spec = SPECS[label]
    parts = []
    if rng.random() < 0.2:
        parts.append(render(rng, FORWARD, ctx))
    parts.append(render(rng, rng.choice(spec["summaries"]), ctx))
    extra = []
    if rng.random() < 0.55:
        _, heading, body = pick_label_clauses(rng, label, ctx, plain, 1)[0]
        intro = rng.choice(QUOTE_INTROS).format(num=rng.randint(2, 18))
        extra.append(f"{intro} \"{body}\"")
    if rng.random() < 0.35:
        extra.append(pick_note(rng, label, ctx))
    if extra and rng.random() < 0.3:
        anc = pick_ancillary(rng, label, ctx, 1)
        if anc:
            _, heading, body = anc[0]
            extra.append(rng.choice(ANC_INTROS).format(heading=heading) + f" \"{body}\"")
    if plain:
        extra.insert(0, rng.choice(PLAIN_INTROS) + " " + purpose_text(rng, label, ctx, plain))
    return "\n\n".join(parts + extra)


def form_short(rng, label, ctx, plain) -> str:
    """A line or two: a one-sentence description, or one or two clauses."""
    spec = SPECS[label]
    if rng.random() < 0.5:
        text = capitalize_first(render(rng, rng.choice(spec["oneliners"]), ctx))
        if rng.random() < 0.5:
            text += " " + (purpose_text(rng, label, ctx, True) if rng.random() < 0.5
                           else pick_note(rng, label, ctx))
        return text
    style = rng.choice(HEADING_STYLES)
    num = rng.randint(2, 24)
    picked = pick_label_clauses(rng, label, ctx, plain, rng.choice([1, 2]))
    return "\n".join(format_section(rng, h, b, num + i, style)
                     for i, (_, h, b) in enumerate(picked))


def form_boiler(rng, label, ctx, plain) -> str:
    """Boilerplate (governing law, notices, ...) around one clause of the type itself."""
    style = rng.choice(HEADING_STYLES)
    sections = pick_shared(rng, label, ctx, rng.choice([1, 2])) + \
        pick_label_clauses(rng, label, ctx, plain, 1)
    rng.shuffle(sections)
    num = rng.randint(2, 24)
    return "\n".join(format_section(rng, h, b, num + i, style)
                     for i, (_, h, b) in enumerate(sections))


FORMS = {
    "document": form_document, "excerpt": form_excerpt, "opening": form_opening,
    "email": form_email, "short": form_short, "boiler": form_boiler,
}


# ---------------------------------------------------------------------------
# OCR-like noise: what a scanned, text-extracted contract looks like.
# ---------------------------------------------------------------------------
OCR_SUBS = [("rn", "m"), ("m", "rn"), ("l", "1"), ("I", "l"), ("O", "0"), ("0", "O"),
            ("cl", "d"), ("e", "c"), ("h", "b"), ("1", "l"), ("S", "5"), ("fi", "f"),
            ("ti", "h"), ("a", "o"), (".", ","), ("c", "e")]


def garble_word(rng: random.Random, word: str) -> str:
    options = [(a, b) for a, b in OCR_SUBS if a in word]
    if not options:
        return word
    a, b = rng.choice(options)
    starts = [i for i in range(len(word)) if word.startswith(a, i)]
    i = rng.choice(starts)
    return word[:i] + b + word[i + len(a):]


def page_furniture(rng: random.Random, page: int, pages: int, stamp: str, docid: str) -> str:
    return rng.choice(PAGE_HEADERS).format(page=page, pages=pages, stamp=stamp, docid=docid,
                                           ver=docid[-1])


def rewrap(rng: random.Random, text: str, width: int, hyphen_prob: float) -> str:
    """Hard line breaks every ~width characters, sometimes splitting a word with a hyphen."""
    out_lines = []
    for para in text.split("\n"):
        line = ""
        for word in para.split(" "):
            if line and len(line) + 1 + len(word) > width:
                if len(word) > 7 and rng.random() < hyphen_prob:
                    cut = rng.randint(3, len(word) - 3)
                    out_lines.append(f"{line} {word[:cut]}-")
                    line = word[cut:]
                    continue
                out_lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        out_lines.append(line)
    return "\n".join(out_lines)


def ocr_noise(rng: random.Random, text: str) -> str:
    """Character confusions, dropped spaces, hard line wraps and page headers/footers."""
    heavy = rng.random() < 0.3
    sub_rate = rng.uniform(0.03, 0.08) if heavy else rng.uniform(0.01, 0.04)
    join_rate = rng.uniform(0.02, 0.05) if heavy else rng.uniform(0.0, 0.02)
    lines = []
    for line in text.split("\n"):
        words = [garble_word(rng, w) if rng.random() < sub_rate else w for w in line.split(" ")]
        merged = words[:1]
        for w in words[1:]:
            if rng.random() < join_rate:
                merged[-1] += w
            else:
                merged.append(w)
        lines.append(" ".join(merged))
    text = "\n".join(lines)
    if rng.random() < 0.7:
        text = rewrap(rng, text, rng.randint(48, 80), 0.3 if heavy else 0.15)
    # One scan: one page count, one received stamp, one document reference.
    pages = rng.randint(2, 9)
    page = rng.randint(1, pages - 1)
    stamp = f"{rng.randint(1, 28):02d} {rng.choice(MONTHS)[:3].upper()} {rng.randint(2019, 2027)}"
    docid = f"{rng.randint(1000, 9999)}-{rng.randint(10, 99)}"
    if rng.random() < 0.6:  # a page break somewhere in the middle
        lines = text.split("\n")
        if len(lines) > 3:
            at = rng.randint(1, len(lines) - 2)
            furniture = [page_furniture(rng, page, pages, stamp, docid)]
            if rng.random() < 0.5:
                furniture.append(page_furniture(rng, page + 1, pages, stamp, docid))
            lines[at:at] = furniture
            text = "\n".join(lines)
    if rng.random() < 0.4:
        text = page_furniture(rng, page, pages, stamp, docid) + "\n" + text
    if rng.random() < 0.4:
        text = text + "\n" + page_furniture(rng, page + 1, pages, stamp, docid)
    return text


def make_candidate(rng: random.Random, label: str) -> tuple[str, tuple]:
    """A candidate text and how it was made (form, paraphrased, noisy)."""
    form = rng.choices([f for f, _ in FORM_WEIGHTS], weights=[w for _, w in FORM_WEIGHTS])[0]
    plain = rng.random() < PLAIN_SHARE
    ctx = make_context(rng, label, plain)
    text = FORMS[form](rng, label, ctx, plain)
    noisy = rng.random() < OCR_SHARE
    if noisy:
        text = ocr_noise(rng, text)
    return text, (form, plain, noisy)


# ---------------------------------------------------------------------------
# Near-duplicate detection: word 5-gram shingles, Jaccard similarity
# ---------------------------------------------------------------------------
TOKEN_RE = re.compile(r"[a-z0-9]+")


def word_count(text: str) -> int:
    return len(text.split())


PIECE_RE = re.compile(r"[A-Za-z]+|\d|\S")


def token_estimate(text: str) -> int:
    """Roughly SmolLM2's token count: a token per digit, punctuation mark and
    line break, and one per six letters of a word."""
    pieces = PIECE_RE.findall(text)
    return sum(1 + (len(p) - 1) // 6 if p.isalpha() else 1 for p in pieces) + text.count("\n")


def shingles(text: str) -> frozenset:
    tokens = TOKEN_RE.findall(text.lower())
    if len(tokens) < SHINGLE:
        return frozenset([tuple(tokens)])
    return frozenset(tuple(tokens[i:i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1))


def trigrams(text: str) -> frozenset:
    tokens = TOKEN_RE.findall(text.lower())
    return frozenset(tuple(tokens[i:i + 3]) for i in range(max(1, len(tokens) - 2)))


class ShingleIndex:
    """Inverted index from shingle to item, so a candidate is compared only
    with items it shares at least one shingle with (all others score 0)."""

    def __init__(self) -> None:
        self.sets: list[frozenset] = []
        self.tags: list[str] = []
        self.postings: dict[tuple, list[int]] = defaultdict(list)
        self.exact: set[str] = set()
        self.trigram_sets: list[frozenset] = []
        self.trigram_postings: dict[tuple, list[int]] = defaultdict(list)

    @staticmethod
    def normal(text: str) -> str:
        return " ".join(TOKEN_RE.findall(text.lower()))

    def max_similarity(self, sh: frozenset, skip_tag: str | None = None) -> tuple[float, int]:
        overlap: Counter = Counter()
        for s in sh:
            for idx in self.postings.get(s, ()):
                overlap[idx] += 1
        best, best_idx = 0.0, -1
        for idx, ov in overlap.items():
            if skip_tag is not None and self.tags[idx] == skip_tag:
                continue
            jac = ov / (len(sh) + len(self.sets[idx]) - ov)
            if jac > best:
                best, best_idx = jac, idx
        return best, best_idx

    def accepts(self, text: str, split: str | None = None) -> bool:
        if self.normal(text) in self.exact:
            return False
        if self.max_similarity(shingles(text))[0] >= SIM_THRESHOLD:
            return False
        return split is None or self.max_containment(text, split) < CONTAINMENT_THRESHOLD

    def max_containment(self, text: str, split: str) -> float:
        """Largest share of the shorter text's word 3-grams found in an item of another split.

        Jaccard misses a short clause copied inside a long item of another split
        (the long item dilutes the union); containment catches it.
        """
        grams = trigrams(text)
        overlap: Counter = Counter()
        for g in grams:
            for idx in self.trigram_postings.get(g, ()):
                overlap[idx] += 1
        best = 0.0
        for idx, shared in overlap.items():
            if self.tags[idx] != split:
                best = max(best, shared / max(1, min(len(grams), len(self.trigram_sets[idx]))))
        return best

    def add(self, text: str, tag: str) -> None:
        sh = shingles(text)
        idx = len(self.sets)
        self.sets.append(sh)
        self.tags.append(tag)
        for s in sh:
            self.postings[s].append(idx)
        grams = trigrams(text)
        self.trigram_sets.append(grams)
        for g in grams:
            self.trigram_postings[g].append(idx)
        self.exact.add(self.normal(text))


# ---------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------
def make_item(item_id: str, text: str, label: str) -> dict:
    return {"id": item_id, "messages": [
        {"role": "user", "content": text},
        {"role": "assistant", "content": f"contract_type: {label}"}]}


def item_label(item: dict) -> str:
    return item["messages"][1]["content"].split(": ", 1)[1]


def item_text(item: dict) -> str:
    return item["messages"][0]["content"]


def label_quotas(split: str) -> dict[str, int]:
    base, extra = divmod(SPLIT_SIZES[split], len(LABELS))
    quotas = {label: base for label in LABELS}
    for i in range(extra):
        quotas[LABELS[(EXTRA_OFFSET[split] + i) % len(LABELS)]] += 1
    return quotas


def load_hard_cases(path: Path) -> list[dict]:
    """Read and check the hand-written hard cases; fail loudly on any defect."""
    items, seen = [], set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        item = json.loads(line)
        where = f"{path.name}:{lineno}"
        if not re.fullmatch(r"lc-hard-\d{3}", item.get("id", "")) or item["id"] in seen:
            raise ValueError(f"{where}: id must be a new lc-hard-NNN, got {item.get('id')!r}")
        msgs = item.get("messages", [])
        if [m.get("role") for m in msgs] != ["user", "assistant"]:
            raise ValueError(f"{where}: messages must be one user then one assistant turn")
        answer = msgs[1]["content"]
        if not answer.startswith("contract_type: ") or item_label(item) not in LABELS:
            raise ValueError(f"{where}: answer must be 'contract_type: <code>', got {answer!r}")
        if word_count(msgs[0]["content"]) > MAX_WORDS or \
                token_estimate(msgs[0]["content"]) > MAX_TOKENS_EST:
            raise ValueError(f"{where}: text longer than {MAX_WORDS} words or about "
                             f"{MAX_TOKENS_EST} tokens")
        seen.add(item["id"])
        items.append(item)
    return items


def assign_hard_cases(hard: list[dict]) -> dict[str, list[dict]]:
    per_label_seen: Counter = Counter()
    by_split: dict[str, list[dict]] = {s: [] for s in SPLIT_SIZES}
    for item in hard:
        label = item_label(item)
        by_split[HARD_CYCLE[per_label_seen[label] % len(HARD_CYCLE)]].append(item)
        per_label_seen[label] += 1
    return by_split


def generate_item_text(rng: random.Random, label: str, index: ShingleIndex,
                       split: str) -> tuple[str, tuple]:
    """Draw candidates until one is new, not a near-duplicate, not contained in another split, and short enough."""
    for _ in range(MAX_ATTEMPTS):
        text, how = make_candidate(rng, label)
        if MIN_WORDS <= word_count(text) <= MAX_WORDS and token_estimate(text) <= MAX_TOKENS_EST \
                and index.accepts(text, split):
            return text, how
    raise RuntimeError(f"could not draw a distinct '{label}' item in {MAX_ATTEMPTS} tries; "
                       "add templates or slot values for this label")


def build_splits(seed: int, hard: list[dict]) -> tuple[dict[str, list[dict]], Counter]:
    """The three splits, and counts of how the generated items were made."""
    rng = random.Random(seed)
    made: Counter = Counter()
    index = ShingleIndex()
    hard_by_split = assign_hard_cases(hard)
    for split, items in hard_by_split.items():
        for item in items:
            if not index.accepts(item_text(item)):
                raise ValueError(f"hard case {item['id']} duplicates an earlier hard case")
            index.add(item_text(item), split)

    splits = {}
    # Held-out splits are drawn first, so their items do not shift when train changes.
    for split in ["test", "validation", "train"]:
        quotas = label_quotas(split)
        have = Counter(item_label(i) for i in hard_by_split[split])
        generated = []
        for label in LABELS:
            for _ in range(quotas[label] - have[label]):
                text, (form, plain, noisy) = generate_item_text(rng, label, index, split)
                made[form] += 1
                made["paraphrased"] += plain
                made["noisy"] += noisy
                index.add(text, split)
                generated.append((text, label))
        items = [("hard", it) for it in hard_by_split[split]] + [("gen", g) for g in generated]
        rng.shuffle(items)
        numbered, counter = [], 0
        for kind, payload in items:
            if kind == "hard":
                numbered.append(payload)
            else:
                counter += 1
                numbered.append(make_item(f"{SPLIT_PREFIX[split]}-{counter:05d}", *payload))
        splits[split] = numbered
    return splits, made


def max_cross_split_containment(splits: dict[str, list[dict]]) -> tuple[float, str]:
    """Largest share of an item's word 3-grams found in one item of another split."""
    index = ShingleIndex()
    for split, items in splits.items():
        for item in items:
            index.add(item_text(item), split)
    best = (0.0, "")
    for split, items in splits.items():
        for item in items:
            value = index.max_containment(item_text(item), split)
            if value > best[0]:
                best = (value, item["id"])
    return best


def max_cross_split_similarity(splits: dict[str, list[dict]]) -> tuple[float, str, str]:
    """Highest 5-gram Jaccard between two items in different splits (all labels)."""
    index = ShingleIndex()
    ids = []
    for split, items in splits.items():
        for item in items:
            index.add(item_text(item), split)
            ids.append(item["id"])
    best = (0.0, "", "")
    for idx, (sh, tag) in enumerate(zip(index.sets, index.tags)):
        sim, other = index.max_similarity(sh, skip_tag=tag)
        if sim > best[0]:
            best = (sim, ids[idx], ids[other])
    return best


# ---------------------------------------------------------------------------
# Keyword baseline: how far does one typical word per label get?
# ---------------------------------------------------------------------------
def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def pick_keywords(train: list[dict]) -> dict[str, str]:
    """For each label, the word whose presence best predicts it on train (F1)."""
    doc_freq: dict[str, Counter] = defaultdict(Counter)
    label_sizes = Counter()
    for item in train:
        label = item_label(item)
        label_sizes[label] += 1
        for w in set(words_of(item_text(item))):
            if len(w) >= 3:
                doc_freq[w][label] += 1
    keywords = {}
    for label in LABELS:
        best = (-1.0, "")
        for w in sorted(doc_freq):
            tp = doc_freq[w][label]
            if tp == 0:
                continue
            precision = tp / sum(doc_freq[w].values())
            recall = tp / label_sizes[label]
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best[0]:
                best = (f1, w)
        keywords[label] = best[1]
    return keywords


def keyword_predict(text: str, keywords: dict[str, str], fallback: str) -> str:
    """Label whose keyword occurs most often; ties go to the earliest occurrence."""
    tokens = words_of(text)
    best, best_key = fallback, None
    for label in LABELS:
        kw = keywords[label]
        count = tokens.count(kw)
        if count == 0:
            continue
        key = (count, -tokens.index(kw))
        if best_key is None or key > best_key:
            best, best_key = label, key
    return best


def keyword_baseline(train: list[dict], test: list[dict]) -> tuple[float, dict[str, str]]:
    keywords = pick_keywords(train)
    fallback = Counter(item_label(i) for i in train).most_common(1)[0][0]
    correct = sum(keyword_predict(item_text(i), keywords, fallback) == item_label(i)
                  for i in test)
    return correct / len(test), keywords


# ---------------------------------------------------------------------------
# Output and report
# ---------------------------------------------------------------------------
def write_jsonl(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")


def print_report(splits: dict[str, list[dict]], made: Counter) -> None:
    print(f"{'label':<18}" + "".join(f"{s:>12}" for s in splits))
    for label in LABELS:
        counts = [sum(item_label(i) == label for i in items) for items in splits.values()]
        print(f"{label:<18}" + "".join(f"{c:>12}" for c in counts))
    print(f"{'total':<18}" + "".join(f"{len(items):>12}" for items in splits.values()))
    for split, items in splits.items():
        lengths = [word_count(item_text(i)) for i in items]
        tokens = [token_estimate(item_text(i)) for i in items]
        hard = sum(i["id"].startswith("lc-hard-") for i in items)
        print(f"{split}: {hard} hard cases, words mean {sum(lengths) / len(lengths):.1f}, "
              f"min {min(lengths)}, max {max(lengths)}; estimated tokens max {max(tokens)}")
    generated = sum(made[f] for f, _ in FORM_WEIGHTS)
    print(f"generated items: {generated}; forms: " + ", ".join(
        f"{f} {made[f]}" for f, _ in FORM_WEIGHTS) +
        f"; paraphrased {made['paraphrased']}, OCR noise {made['noisy']}")
    sim, a, b = max_cross_split_similarity(splits)
    print(f"max cross-split 5-gram Jaccard: {sim:.3f} ({a} vs {b})")
    share, item_id = max_cross_split_containment(splits)
    print(f"max cross-split 3-gram containment: {share:.3f} ({item_id})")
    accuracy, keywords = keyword_baseline(splits["train"], splits["test"])
    print("keyword baseline keywords: " + ", ".join(f"{l}={w}" for l, w in keywords.items()))
    print(f"keyword baseline accuracy on test: {accuracy:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    parser.add_argument("--out", type=Path, default=HERE / "data",
                        help="output folder for train/validation/test.jsonl")
    args = parser.parse_args()

    hard = load_hard_cases(HARD_CASES_PATH)
    splits, made = build_splits(args.seed, hard)
    splits = {s: splits[s] for s in SPLIT_SIZES}  # report and write in train/validation/test order
    for split, items in splits.items():
        write_jsonl(args.out / f"{split}.jsonl", items)
    print_report(splits, made)


if __name__ == "__main__":
    main()
