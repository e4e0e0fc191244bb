#!/usr/bin/env python3
"""Generate the entity_extraction suite: legal/business sentence -> JSON entities.

Every item is a chat pair: the user turn holds one to three short sentences
(a contract clause, invoice line, lease term, employment letter, court filing
or email); the assistant turn is a JSON object with exactly the keys people,
dates, durations, addresses, amounts (in that order), each a list of spans
copied verbatim from the text, in order of first appearance, without repeats:

    {"people": ["Elena Varga"], "dates": ["12 March 2024"], "durations": [],
     "addresses": [], "amounts": ["$4,500"]}

Sentences are assembled from templates with inline alternatives ("[a|b]") and
slots ("{P}"). Every slot that fills an entity records its span while the text
is built, so the gold answer is correct by construction; the generator then
checks that each span occurs verbatim at its recorded place and that the
template's own words hold no unrecorded digits, month names, currencies or
"<number> days"-style periods. Hard cases (a company named after a person's
surname, an address inside a company name, a period counted from a date,
an amount that looks like a date, clause numbers and counts that are not
amounts, a bare city that is not an address) are ordinary templates.

Standard library only; the same --seed always gives byte-identical files.

    python suites/entity_extraction/generate.py [--seed 13] [--out DIR]
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

KEYS = ["people", "dates", "durations", "addresses", "amounts"]
SPLIT_SIZES = {"train": 400, "validation": 60, "test": 150}
PREFIX = "ee"
MIN_WORDS, MAX_WORDS = 15, 60
SIM_THRESHOLD = 0.5      # word 5-gram Jaccard at or above this is a near-duplicate
SHINGLE = 5
CONTAIN_THRESHOLD = 0.7  # word 3-gram containment (bench data check flags 0.8)
CONTAIN_NGRAM = 3
MAX_ATTEMPTS = 4000
TAIL_PROB = 0.3          # chance of a second, short sentence after the main one

# ---------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------
# (first name, gender used only to pick a fitting title: f, m or n)
FIRST_NAMES = [
    ("Amelia", "f"), ("Rahul", "m"), ("Sofia", "f"), ("Daniel", "m"), ("Priya", "f"),
    ("Marcus", "m"), ("Elena", "f"), ("Kwame", "m"), ("Hannah", "f"), ("Luis", "m"),
    ("Mei", "f"), ("Tobias", "m"), ("Fatima", "f"), ("Oliver", "m"), ("Ingrid", "f"),
    ("Diego", "m"), ("Aisha", "f"), ("Connor", "m"), ("Yuki", "n"), ("Grace", "f"),
    ("Mateo", "m"), ("Leila", "f"), ("Samuel", "m"), ("Nadia", "f"), ("Victor", "m"),
    ("Chloe", "f"), ("Ibrahim", "m"), ("Zoe", "f"), ("Anders", "m"), ("Rosa", "f"),
    ("Kenji", "m"), ("Bridget", "f"), ("Jordan", "n"), ("Austin", "m"), ("Florence", "f"),
    ("Tariq", "m"), ("Siobhan", "f"), ("Emeka", "m"), ("Margarethe", "f"), ("Pavel", "m"),
    ("Alex", "n"), ("Beatriz", "f"), ("Henrik", "m"), ("Olumide", "n"), ("Camille", "f"),
    ("Ravi", "m"), ("Teresa", "f"), ("Wei", "n"), ("Georgia", "f"), ("Felix", "m"),
    ("Anya", "f"), ("Hugo", "m"), ("Maren", "f"), ("Santiago", "m"), ("Lucy", "f"),
    ("Dmitri", "m"), ("Noor", "f"), ("Sean", "m"), ("Ama", "f"), ("Robin", "n"),
]
LAST_NAMES = [
    "Okafor", "Lindqvist", "Moreno", "Patel", "Whitaker", "Nakamura", "Brennan",
    "Haddad", "Kowalski", "Ferreira", "O'Neill", "Schmidt", "Abernathy",
    "Delacroix", "Mensah", "Rossi", "Gupta", "Thornton", "Varga", "Castillo",
    "Fitzgerald", "Hwang", "Novak", "Sato", "Adeyemi", "McAllister", "Petrov",
    "Dubois", "Ellison", "Quinn", "Baptiste", "Kaur", "Van der Berg", "Nguyen",
    "Achterberg", "Osei", "Marsh", "Chandra", "Kim", "Lopez-Vidal", "Halvorsen",
    "Ward", "Iqbal", "Carvalho", "Byrne", "Yilmaz", "Stewart", "Morgan",
    "Fraser", "Kelly", "Lam", "Bianchi", "Oyelaran", "Jensen", "Park",
]
TITLES = {"f": ["Ms.", "Mrs.", "Dr.", "Prof.", "Ms"], "m": ["Mr.", "Dr.", "Prof.", "Mr"],
          "n": ["Dr.", "Prof.", "Mx."]}
TITLE_PROB = 0.45
MIDDLE_PROB = 0.12

CO_PREFIX = [
    "Bluestone", "Northwind", "Harborview", "Redwood", "Silverline", "Crescent",
    "Ironbridge", "Oakmont", "Summit", "Brightwater", "Granite Peak", "Lakeshore",
    "Meridian", "Pinecrest", "Cobalt", "Falcon", "Evergreen", "Sterling",
    "Westbrook", "Aurora", "Copperfield", "Highland", "Riverbend", "Tidewater",
    "Vantage", "Juniper", "Keystone", "Orion", "Saffron", "Beacon", "Kestrel",
    "Alder", "Quarry Hill", "Larkspur", "Thistle", "Marigold",
]
CO_CORE = [
    "Logistics", "Analytics", "Foods", "Holdings", "Manufacturing", "Health",
    "Media", "Capital", "Systems", "Properties", "Energy", "Robotics", "Retail",
    "Labs", "Partners", "Construction", "Textiles", "Pharma", "Design",
    "Networks", "Hospitality", "Motors", "Software", "Consulting", "Supply",
    "Finance", "Studios", "Marine", "Ventures", "Dental", "Brewing", "Freight",
]
CO_SUFFIX = ["LLC", "Inc.", "Ltd", "Limited", "Corp.", "GmbH", "Pty Ltd", "LLP",
             "S.A.", "plc", "B.V.", "AG"]
# Companies named after a surname ("Varga Holdings Ltd"): not people.
SURNAME_CO = ["{s} Holdings Ltd", "{s} & Sons Ltd", "{s} & Partners LLP", "{s} Logistics Inc.",
              "{s} Brothers Construction", "{s} Family Trust", "{s} Legal LLP",
              "{s} Dental Group", "{s} Engineering GmbH", "{s} Capital LLC",
              "{s} & {s2} LLP", "{s}-{s2} Associates"]
# Companies whose name contains a street address ("One Market Street Holdings LLC"):
# not addresses.
ADDRESS_CO_NUM = ["One", "Two", "Three", "100", "200", "250", "500", "777", "1200", "45"]
ADDRESS_CO_TAIL = ["Holdings LLC", "Partners LP", "Realty Inc.", "Properties Ltd",
                   "Owner LLC", "Associates", "Tenants Association", "Investors LLC",
                   "Property Trust", "Development Corp."]

# (city, region, postcode maker): the postcode is part of some address forms.
US_CITIES = [("Austin", "TX", "787"), ("Chicago", "IL", "606"), ("Denver", "CO", "802"),
             ("Boston", "MA", "021"), ("Seattle", "WA", "981"), ("Phoenix", "AZ", "850"),
             ("Atlanta", "GA", "303"), ("Portland", "OR", "972"), ("Miami", "FL", "331"),
             ("Houston", "TX", "770"), ("Columbus", "OH", "432")]
UK_CITIES = [("London", "EC2A"), ("Leeds", "LS1"), ("Bristol", "BS1"), ("Manchester", "M1"),
             ("Edinburgh", "EH2"), ("Glasgow", "G2"), ("Cardiff", "CF10"), ("Belfast", "BT1")]
OTHER_CITIES = ["Toronto, ON", "Vancouver, BC", "Sydney NSW", "Melbourne VIC", "Dublin",
                "Auckland", "Singapore", "Rotterdam", "Cape Town", "Calgary, AB"]
BARE_CITIES = ["Toronto", "London", "Chicago", "Dublin", "Singapore", "Sydney", "Leeds",
               "Denver", "Rotterdam", "Edinburgh", "Boston", "Auckland", "Cape Town",
               "Manchester", "Austin", "Calgary", "Glasgow", "Vancouver"]
STREETS = [
    "Elm Street", "Harbor Road", "King Street West", "Market Street", "Queen's Avenue",
    "Maple Drive", "Commerce Way", "Station Road", "Riverside Parkway", "Pine Avenue",
    "High Street", "Industrial Boulevard", "Cedar Lane", "Bay Street", "Mill Road",
    "Victoria Street", "Lakeview Terrace", "Greenway Court", "Oak Hollow Road",
    "Wharf Street", "Chapel Lane", "Granville Street", "Burnside Avenue", "Quinn Avenue",
    "Whitaker Street", "Morgan Lane", "Fraser Road", "Canal Street", "Orchard Row",
    "Bridge Street", "Dock Road", "Albion Place", "Hawthorn Crescent", "Water Street",
]
MONTHS = ["January", "February", "March", "April", "May", "June", "July",
          "August", "September", "October", "November", "December"]
MONTH_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
              "Nov", "Dec"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen",
                "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "twenty-one",
                "twenty-two", "twenty-three", "twenty-four"]
TENS_WORDS = {30: "thirty", 40: "forty", 45: "forty-five", 60: "sixty", 90: "ninety",
              36: "thirty-six", 48: "forty-eight", 120: "one hundred and twenty",
              180: "one hundred and eighty"}
ROLES = ["Chief Financial Officer", "Operations Manager", "Senior Accountant",
         "Head of Legal", "Software Engineer", "Managing Director", "Project Manager",
         "Regional Sales Manager", "HR Business Partner", "Data Analyst",
         "Company Secretary", "Finance Director", "Office Manager", "Lab Technician",
         "Head of Procurement", "General Counsel"]
GOODS = ["industrial pumps", "office furniture", "frozen seafood", "steel coils",
         "nitrile gloves", "laptop computers", "solar panels", "printed packaging",
         "hydraulic spare parts", "LED fixtures", "green coffee beans", "safety helmets",
         "bottled water", "commercial ovens", "cotton fabric", "lab reagents"]
# Counted things, by kind of slot: documents, goods, kit handed over.
ITEMS = {"CNTD": ["copies", "counterparts", "signed originals", "certified copies"],
         "CNTG": ["pallets", "units", "crates", "replacement parts", "cartons", "drums",
                  "laptops", "boxes of files"],
         "CNTK": ["sets of keys", "access cards", "laptops", "uniforms", "parking permits",
                  "company phones"]}
JURISDICTIONS = ["England and Wales", "the State of New York", "Ontario", "Scotland",
                 "the State of Delaware", "Ireland", "New South Wales", "Singapore",
                 "the State of California", "British Columbia"]
CURRENCY_SYMBOL = ["$", "$", "£", "€", "US$", "C$", "A$"]
CURRENCY_CODE = ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "SGD", "JPY"]
CURRENCY_WORD = [("dollars", "dollar"), ("euros", "euro"), ("pounds", "pound"),
                 ("US dollars", "US dollar"), ("Swiss francs", "Swiss franc")]

# ---------------------------------------------------------------------------
# Templates. Entity slots: {P} person, {TP} person perhaps with a title
# (title outside the span), {PS}/{CS} a person and a company sharing a surname,
# {D} date, {DT} "the 3rd of May" date ("the" outside the span), {DU} duration,
# {A} street address, {AM} postal address (street or PO box), {APO} PO box,
# {M} amount, {MW} amount in words,
# {MD} amount that looks like a date. Other slots are not entities:
# {C} company, {CSR} company named after a surname, {CA} company whose name
# holds an address, {CITY}, {REF} clause reference, {CNTD}/{CNTG}/{CNTK} counted
# documents, goods or kit,
# {N} small number, {INV}/{PO}/{CASE} reference numbers, {PCT} percentage,
# {TIME}, {DIST}, {UNIT}, {EXH}, {ROLE}, {GOODS}, {JUR}.
# ---------------------------------------------------------------------------
TEMPLATES: dict[str, list[str]] = {
    "contract": [
        "This [Agreement|Services Agreement|Consulting Agreement] is made on {D} between {C} "
        "and {TP}[ of {A}|], and [continues|remains in force] for {DUl}.",
        "The Consultant shall be paid {Mm} per month for [a term of |]{DUl}, [commencing|starting] "
        "on {D}[, subject to {REF}|].",
        "{C} shall pay {M} to {TP} within {DUs} after {D}[, as set out in {REF}|].",
        "Under {REF}, either party may terminate [this Agreement|the engagement] by giving {DUs} "
        "of written notice to the other[ party|], [delivered by hand or courier|in writing].",
        "This Agreement[ may be executed in {CNTD} and|] was signed by {TP} and {TP} on {D}[ at "
        "the offices of {C}|].",
        "All notices under this Agreement must be [sent|delivered] to {AM}[, marked for the "
        "attention of {TP}|], [or to such other address as a party may notify|and copied by "
        "email to the other party].",
        "The licence fee of {Mm} is payable annually[ in advance|]; the first payment falls due on "
        "{D} and the licence runs for {DUl}.",
        "{CSR} [agrees|undertakes] to supply {GOODS} at a total price of {M}, with delivery to "
        "{A} [by|no later than] {D}.",
        "Signed for and on behalf of {C} by {TP}, {ROLE}, on {D}[ in {CITY}|], in the presence "
        "of {TP}.",
        "The warranty period is {DUl} from delivery, and [the Supplier's|each party's] total "
        "liability under {REF} is capped at {Ml}[ for all claims|].",
        "The restrictive covenant in {REF} applies for {DUl} after termination[ within a radius "
        "of {DIST} of any office of {C}|, in every territory where {C} trades].",
        "Late payments bear interest at {PCT} per annum from {D} until paid in full, and {C} "
        "may suspend [the services|deliveries] until then.",
        "This Amendment extends the term by {DUl}, to end on {D}, [and|but] does not change the "
        "fee of {M} agreed [under|in] {REF}.",
        "Each party shall bear its own costs, and {CNTD} of this Agreement shall be retained by "
        "{C} [at its registered office|for its records].",
        "This Agreement is governed by the laws of {JUR}, and {REF} survives any termination or "
        "expiry [of the engagement|of the term] for [any reason|whatever reason].",
        "{TP} [personally |]guarantees the obligations of {C} up to a maximum of {Ml}[ for {DUl}|"
        "] under the [loan|supply] agreement [dated|signed on] {D}.",
        "The purchase price of {Ml} shall be paid in {N} equal instalments, the first [on|no "
        "later than] {D}[, into the account nominated by {TP}|].",
        "The Effective Date is {D}[, and the initial term is {DUl}|]; [thereafter|after that] the "
        "Agreement renews automatically[ unless terminated under {REF}|] for further periods "
        "of {DUl}.",
        "The Seller, {TP}, [sells|transfers] the vehicle to the Buyer, {TP}, for {MW}, payable "
        "[on|by] {D}.",
        "The landlord, {CA}, and the tenant, {C}, agree that {REF} governs [repairs|access to "
        "the roof][ from {D}|].",
        "The escrow agent will release {Ml} to {C} {DU} after the closing date of {D}[, provided "
        "that no claim has been notified|].",
    ],
    "invoice": [
        "Invoice {INV} issued by {C} on {D} for {M} is payable within {DUs}[ of receipt|]. "
        "[Please quote the invoice number with your payment.|]",
        "Please remit {M} to {C}, {AM}, no later than {D}[, quoting {INV}|][ as your "
        "reference|].",
        "Our records show an outstanding balance of {M} on invoice {INV}, which was due on {D}. "
        "A late fee of {Ms} will apply after {DUs}.",
        "Payment is due {DUs} from the invoice date; {M} remains unpaid for the {CNTG} "
        "delivered[ to {A}|][ last quarter|].",
        "Credit note {INV} for {M} covers {CNTG} returned[ from {A}|] on {D}[ by {TP}|].",
        "{TP} approved purchase order {PO} for {M} on {D}[ on behalf of {C}|], "
        "[subject to the usual|following the standard] budget review.",
        "Invoice {INV} lists {CNTG} at a total of {M}[, including VAT at {PCT}|], [and the "
        "goods were collected from our depot|with delivery charged separately].",
        "A deposit of {M} was received on {D}; the balance of {M} is due {DU} after delivery[ "
        "to {A}|].",
        "Statement for {C}: {M} paid on {D}, {M} outstanding[. Please contact {TP} with any "
        "queries.|.]",
        "The quote from {CSR} is valid for {DUs} and totals {M}[ excluding tax|], [including "
        "installation at {A}|with installation quoted separately].",
        "Please note that a bank charge of {MD} was deducted from your payment [received|"
        "credited] on {D}[ against invoice {INV}|].",
        "Please send the corrected invoice to {APO} before {D}; the disputed line item is {Ms} "
        "[for freight|for {CNTG}].",
        "Invoice {INV} is addressed to {CA}, {APO}, and totals {M}[, payable within {DUs}|].",
        "A refund of {MD} for the {CNTG} returned on {D} has been credited to your account[ "
        "with {C}|].",
        "Following your call with {TP}, we have applied a discount of {PCT}, reducing invoice "
        "{INV} to {M}[, payable within {DUs}|].",
    ],
    "lease": [
        "The Landlord, {TP}, lets the premises at {A} to {TP} for {DUl} [starting on|commencing] "
        "{D}.",
        "The monthly rent [for the flat at {A} |]is {Mm}, payable in advance, and the lease "
        "[ends|expires] on {D}[ unless renewed|].",
        "A security deposit of {Mm} is held by {C} and will be returned within {DUs} after the "
        "tenancy ends[, less any deductions for damage|].",
        "The tenant of {A} must give {DU} of notice before vacating; the current term ends on "
        "{D}.",
        "{CA} lets {UNIT} to {C} at an annual rent of {Ml}[ under {REF}|], [with service charges "
        "payable quarterly|exclusive of service charges].",
        "Rent will increase to {Mm} on {D}, and the lease may be renewed once for a further "
        "{DUl}[ on the same terms|].",
        "The property manager, {TP}, will inspect the flat at {A} on {DT}[ at {TIME}|][ and "
        "report any repairs needed|].",
        "{CNTK} will be handed over [to the tenant|to {TP}] at {A} on {D}[, once the deposit "
        "has cleared|].",
        "Under the break clause in {REF}, the tenant may end the lease after {DUl} by paying {Mm} "
        "[to the Landlord|as compensation].",
        "The sublease of {A} from {TP} to {TP} runs from {D} to {D}[ at {Mm} per month|].",
        "Rent arrears of {Mm} must be cleared within {DUs}, failing which {C} may apply to the "
        "court for possession[ of {A}|].",
        "The guarantor, {TP} of {A}, guarantees the tenant's rent obligations for {DUl}[ from "
        "{D}|].",
        "Parking space {N} is included in the rent[ from {D}|], and pets are not permitted under "
        "{REF} without the prior written consent of {C}.",
        "The lease of the warehouse at {A} was signed in {CITY} on {D} by {TP}[ for {C}|].",
    ],
    "employment": [
        "Dear {TP}, we are pleased to offer you the position of {ROLE} at {C} with an annual "
        "salary of {Ml}, starting on {D}.",
        "Your probationary period will last {DUl}, during which you will report to {TP}[, "
        "{ROLE}|][, at our office at {A}|].",
        "Please report to reception at {A} on {D} at {TIME}[ and ask for {TP}|][, bringing "
        "photo identification|].",
        "A signing bonus of {Mm} will be paid after {DUl} of continuous service[, subject to "
        "{REF}|][ of your contract|].",
        "This letter confirms that {P} was employed by {C} from {D} to {D} as {ROLE}[ and left "
        "in good standing|].",
        "Following the meeting on {D}, {TP} and {TP} agreed that your notice period will be "
        "{DU}.",
        "Your salary will be reviewed after {DUl}; [the current hourly rate is|you are currently "
        "paid] {Ms}[ per hour|][, as agreed with {TP}|].",
        "Relocation costs of up to {Mm} will be reimbursed for your move to {A}[, on "
        "production of receipts|].",
        "The employee, {TP}, is placed on garden leave for {DUl} from {D} and will receive full "
        "pay of {Mm} per month.",
        "Your employment with {CSR} ends on {D}. Please return {CNTK} to the HR team[ before "
        "you leave|][, together with your access badge|].",
        "We confirm your promotion to {ROLE}, effective {D}, with a revised salary of {Ml}[ and "
        "a retention award of {Mm}|].",
        "The non-solicitation clause in {REF} applies for {DUl} after your last day of "
        "employment[ with {C}|].",
        "Your benefits, described in {REF} of your contract, are unchanged[ after {D}|] and "
        "remain subject to the policies of {C}[ as amended from time to time|].",
        "{TP} will act as your mentor during the first {DU}[, and {TP} will approve your "
        "training budget of {Mm}|].",
    ],
    "court": [
        "In {CASE}, the plaintiff, {P}, seeks damages of {Ml} from {C}[ for breach of "
        "contract|][ and interest|].",
        "The hearing is listed for {D} at {TIME} before Judge {P} in Courtroom {N}[; the "
        "parties must file a joint bundle|].",
        "The defendant, {TP}, shall file a response within {DUs} of service and in any event no "
        "later than {D}.",
        "The court awarded costs of {Mm} to {P} and ordered [the defendant to pay|payment] "
        "within {DU}[ of the order|].",
        "Service was effected on {TP} [personally |]at {A} on {D}, as [shown|confirmed] by the "
        "certificate of service.",
        "Pursuant to {REF}, the motion filed on {D} by counsel for {C} is granted[, and the "
        "stay is lifted|].",
        "The witness, {TP}, testified to having lived at {A} for {DUl} before {D}.",
        "The parties to {CASE} settled for {MW} on {D}, and the claim against {CSR} was "
        "dismissed[ with prejudice|].",
        "The defendant was sentenced to {DUl} of imprisonment and fined {Mm}[ by Judge {P}|]["
        " on {D}|].",
        "Exhibit {EXH} is a letter dated {D} from {TP} to {TP}[ concerning the property at "
        "{A}|].",
        "The affidavit of {P}, sworn on {D}, states that {M} was transferred to {C}[ without "
        "authorisation|].",
        "The appeal in {CASE} must be lodged within {DUs} of the judgment[ delivered on {D}|].",
        "Counsel for {C} filed {CNTD} of the hearing bundle with the court registry in {CITY}[, "
        "as required by {REF}|][ on {D}|].",
        "The court of {JUR}, having considered {REF}, adjourned the matter [generally|to {D}] and "
        "reserved the question of costs[ for a later hearing|].",
    ],
    "email": [
        "Dear {TP}, can we move the signing from {D} to {D}? {P} is away until then[ and needs "
        "to initial the schedules|].",
        "Dear {TP}, attached are {CNTD} of the draft lease for {A}. Please sign and return them "
        "by {D}.",
        "Quick update: {C} has agreed to pay {M} over {DU}. [Regards|Best|Thanks], {P}",
        "Team, the audit fee came in at {Mm}, well under the {Mm} budget. {P} will circulate the "
        "report on {D}.",
        "Please courier the originals to {A} by {D}, and send a scanned copy to {TP}[ for the "
        "file|].",
        "FYI, {REF} of the contract requires us to respond within {DUs}[, so we should reply "
        "before {D}|][ at the latest|].",
        "Reminder: the office at {A} will be closed from {D} until {D}[; urgent post will be "
        "held at reception|].",
        "Hello all, {TP} has joined {C} as {ROLE} and will look after the {CITY} portfolio[ "
        "from next week|].",
        "Thanks for the call. To confirm, we accept {M} in full settlement, payable within {DUs}. "
        "[Best|Kind regards], {P}",
        "Can someone check whether the {CNTG} we ordered from {CSR} have arrived? Nothing has "
        "come through [yet|on our side][ and the client is asking|].",
        "Dear {TP} and {TP}, the completion meeting is confirmed for {DT}[ at {TIME}|] at {A}.",
        "I spoke to {TP} this morning: the buyer wants {DUs} to raise the remaining {M}[ and "
        "will confirm by {D}|].",
        "Can you confirm that {CA} has paid the [deposit|retainer] of {Mm}? [Their office|The "
        "client] is at {A}.",
        "Small query on the {D} statement: the wire fee shows as {MD}, but {TP} was quoted "
        "{Ms}.",
        "Please note our new mailing address, {APO}, which takes effect on {D}[; the old "
        "address will be monitored for {DUl}|].",
    ],
    "hard": [
        "The balance of {M} is due {DU} after {D}, and no extension will be granted beyond "
        "{D}[ without the consent of {TP}|].",
        "{PS}, [a director|the managing director] of {CS}, signed the [guarantee|agreement|"
        "share transfer] on {D}[ in {CITY}|].",
        "{CS} [appointed|engaged] {PS} as its {ROLE}[ on {D}|][ at a salary of {Ml}|].",
        "{CA} [is the landlord|owns the building] and has appointed {C} to collect [the rent|"
        "service charges][ of {M}|] on its behalf.",
        "Please sign {CNTD} of the contract and return them [to us|to our office] under {REF}[; "
        "no payment is due at this stage|].",
        "A processing fee of {MD} applies to invoice {INV}, which was issued on {D}[ by "
        "{C}|].",
        "The option must be exercised within {DU} of {D}[ by written notice to {TP}|][, "
        "failing which it lapses|].",
        "The contract was signed in {CITY}[ in {CNTD}|], and {REF} sets out the payment "
        "schedule [and the delivery milestones|for each phase].",
        "{CSR} shall deliver {CNTG} within {DUs}; the price per unit is {Ms}[ and the delivery "
        "address is {A}|].",
        "Under {REF}, the fee of {MD} is payable {DU} before {D}[ into the client account|].",
        "The meeting between {TP}, {TP} and {TP} on {DT} approved a budget of {MW}[ for the "
        "refurbishment|].",
        "The loan of {MW} is repayable over {DUl}, with interest at {PCT}, the first repayment "
        "falling due on {D}.",
        "{CA} and {CSR} agreed that {REF} applies to the {CNTG} stored at the site[ in "
        "{CITY}|].",
        "Payment of {M} was made by {PS} on behalf of {CS}, {DUs} after the deadline of {D}.",
        "Clause {N} does not apply to {CSR}, whose {CNTG} are covered by {REF} and the "
        "insurance policy held by {C}.",
        "The claim by {CS} against its former partner, {PS}, was struck out on {D}[ with costs "
        "of {Mm}|].",
        "{PS} is not a party to the lease; the tenant is {CS}, which pays {Mm} per month[ for "
        "the premises at {A}|].",
        "Please ask {TP} whether {CS} has countersigned the engagement letter sent by {PS}[ on "
        "{D}|].",
    ],
}
# The second sentence some items get: shorter, with or without entities.
TAILS = [
    "Time is of the essence.", "Please acknowledge receipt.",
    "All other terms remain unchanged.", "Contact {TP} with any questions.",
    "A copy has been sent to {C}.", "Questions may be directed to {TP}.",
    "A reminder will be sent on {D}.", "The signed original will follow on {D}.",
    "See also {REF}.", "No further payment is due.", "{P} will countersign.",
    "Please keep this for your records.", "Reply to {AM} if anything is unclear.",
    "The reference number is {INV}.", "Copies go to {TP} and {TP}.",
]
CATEGORY_WEIGHTS = {"contract": 16, "invoice": 13, "lease": 14, "employment": 14,
                    "court": 14, "email": 13, "hard": 18}

# Hard-case markers counted in the report: slot -> description.
HARD_SLOTS = {"CS": "company named after a person's surname (next to that person)",
              "CSR": "company named after a surname (not a person)",
              "CA": "address inside a company name",
              "MD": "amount that looks like a date",
              "CITY": "bare city (not an address)",
              "CNT": "counted items (not an amount)",
              "REF": "clause/section number (not an amount)"}

# ---------------------------------------------------------------------------
# Slot fillers. Entity values are wrapped as \x01<type code><value>\x03 and
# non-entity fills as \x04<value>\x05 while the text is built.
# ---------------------------------------------------------------------------
TYPE_CODES = {"people": "\x11", "dates": "\x12", "durations": "\x13",
              "addresses": "\x14", "amounts": "\x15"}
CODE_TYPES = {v: k for k, v in TYPE_CODES.items()}
ENT_RE = re.compile(r"\x01([\x11-\x15])([^\x01\x03\x04\x05]*)\x03")
MASK_RE = re.compile(r"\x01[\x11-\x15][^\x03]*\x03|\x04[^\x05]*\x05")


def ent(kind: str, value: str) -> str:
    return f"\x01{TYPE_CODES[kind]}{value}\x03"


def other(value: str) -> str:
    return f"\x04{value}\x05"


def ordinal(day: int) -> str:
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def log_uniform(rng: random.Random, lo: float, hi: float, digits: int) -> float:
    value = 10 ** rng.uniform(math.log10(lo), math.log10(hi))
    step = 10 ** max(0, int(math.log10(value)) - digits + 1)
    return max(step, round(value / step) * step)


def number_words(n: int) -> str:
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else TENS_WORDS[n]


class Item:
    """State for one sentence: values used so far, the date style, the shared surname."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.date_style = rng.choices(range(8), weights=[6, 6, 4, 2, 2, 2, 2, 1])[0]
        self.last_date = datetime.date(2018, 1, 1) + datetime.timedelta(days=rng.randrange(3400))
        self.surname = rng.choice(LAST_NAMES)
        self.currency = rng.choice(["sym", "sym", "code"])
        self.cur_sym = rng.choice(CURRENCY_SYMBOL)
        self.cur_code = rng.choice(CURRENCY_CODE)
        self.hard_tags: set[str] = set()

    def fresh(self, make) -> str:
        for _ in range(50):
            value = make()
            if value not in self.used:
                self.used.add(value)
                return value
        raise RuntimeError("could not draw a distinct value")

    # people ---------------------------------------------------------------
    def name(self, surname: str | None = None) -> tuple[str, str]:
        rng = self.rng
        first, gender = rng.choice(FIRST_NAMES)
        last = surname or rng.choice(LAST_NAMES)
        if surname is None and rng.random() < 0.05:
            last = f"{last}-{rng.choice(LAST_NAMES)}"
        middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if rng.random() < MIDDLE_PROB else ""
        return f"{first}{middle} {last}", gender

    def person(self, titled: bool, surname: str | None = None) -> str:
        for _ in range(50):
            value, gender = self.name(surname)
            if value not in self.used:
                break
        self.used.add(value)
        title = ""
        if titled and self.rng.random() < TITLE_PROB:
            title = self.rng.choice(TITLES[gender]) + " "
        return title + ent("people", value)

    # dates ----------------------------------------------------------------
    def next_date(self) -> datetime.date:
        self.last_date += datetime.timedelta(days=self.rng.randrange(3, 420))
        return self.last_date

    def format_date(self, day: datetime.date, style: int) -> str:
        y, m, d = day.year, day.month, day.day
        return [f"{d} {MONTHS[m - 1]} {y}",
                f"{MONTHS[m - 1]} {d}, {y}",
                f"{y}-{m:02d}-{d:02d}",
                f"{d:02d}/{m:02d}/{y}",
                f"{MONTH_ABBR[m - 1]}. {d}, {y}" if m != 5 else f"May {d}, {y}",
                f"{ordinal(d)} {MONTHS[m - 1]} {y}",
                f"{d}.{m:02d}.{y}",
                f"{d} {MONTH_ABBR[m - 1]} {y}"][style]

    def date(self) -> str:
        style = self.date_style if self.rng.random() < 0.8 else self.rng.randrange(8)
        day = self.next_date()
        return ent("dates", self.fresh(lambda: self.format_date(day, style)))

    def date_ordinal(self) -> str:
        day = self.next_date()
        year = f" {day.year}" if self.rng.random() < 0.5 else ""
        value = f"{ordinal(day.day)} of {MONTHS[day.month - 1]}{year}"
        self.used.add(value)
        return "the " + ent("dates", value)

    # durations ------------------------------------------------------------
    def duration(self, length: str = "any") -> str:
        """length: "short" (hours to weeks), "long" (months, years) or "any"."""
        rng = self.rng
        short = [("days", [7, 10, 14, 21, 30, 45, 60, 90, 120, 180]),
                 ("business days", [3, 5, 10, 15, 20]),
                 ("working days", [2, 5, 7, 10]),
                 ("calendar days", [14, 30, 45, 60]),
                 ("weeks", [2, 3, 4, 6, 8, 12]),
                 ("hours", [24, 48])]
        long = [("months", [1, 3, 6, 9, 12, 18, 24, 36, 48]),
                ("months", [2, 3, 6, 12, 18]),
                ("years", [1, 2, 3, 5, 7, 10])]
        units = {"short": short, "long": long, "any": short + long}[length]

        def make() -> str:
            unit, choices = rng.choice(units)
            n = rng.choice(choices)
            word_ok = n < len(NUMBER_WORDS) or n in TENS_WORDS
            unit_s = unit[:-1] if n == 1 else unit
            form = rng.choices(["digit", "word", "both"], weights=[5, 3, 2])[0]
            if form == "word" and word_ok:
                return f"{number_words(n)} {unit_s}"
            if form == "both" and word_ok:
                return f"{number_words(n)} ({n}) {unit_s}"
            return f"{n} {unit_s}"

        return ent("durations", self.fresh(make))

    # addresses ------------------------------------------------------------
    def address(self, kind: str = "street") -> str:
        """kind: "street" (a place someone can be), "mail" (street or PO box), "po"."""
        rng = self.rng

        def make() -> str:
            num = rng.choice([rng.randint(1, 99), rng.randint(100, 2400)])
            street = rng.choice(STREETS)
            region = rng.choice(["us", "us", "uk", "other"])
            if region == "us":
                city, state, zip3 = rng.choice(US_CITIES)
                tail = f"{city}, {state} {zip3}{rng.randint(0, 99):02d}"
            elif region == "uk":
                city, outward = rng.choice(UK_CITIES)
                code = f"{outward} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}" \
                       f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                tail = rng.choice([city, f"{city} {code}"])
            else:
                tail = rng.choice(OTHER_CITIES)
            if kind == "po" or (kind == "mail" and rng.random() < 0.3):
                box = rng.choice(["PO Box", "P.O. Box", "Post Office Box"])
                return f"{box} {rng.randint(10, 9999)}, {tail}"
            form = rng.choices(["plain", "suite", "suite_after", "unit", "floor"],
                               weights=[5, 2, 2, 2, 1])[0]
            if form == "suite":
                return f"Suite {rng.randint(100, 1800)}, {num} {street}, {tail}"
            if form == "suite_after":
                return f"{num} {street}, Suite {rng.randint(2, 950)}, {tail}"
            if form == "unit":
                unit = rng.choice(["Unit", "Flat", "Apartment"])
                return f"{unit} {rng.randint(1, 40)}{rng.choice(['', '', 'B', 'C'])}, " \
                       f"{num} {street}, {tail}"
            if form == "floor":
                return f"Level {rng.randint(2, 30)}, {num} {street}, {tail}"
            return f"{num} {street}, {tail}"

        return ent("addresses", self.fresh(make))

    # amounts --------------------------------------------------------------
    def amount(self, size: str = "any") -> str:
        """size: "small" (fees, charges), "medium" (rent, bonuses), "large"
        (salaries, damages, prices) or "any"."""
        rng = self.rng
        lo, hi = {"small": (15, 2_000), "medium": (400, 25_000), "large": (20_000, 5_000_000),
                  "any": (40, 2_500_000)}[size]

        def make() -> str:
            form = rng.choices(["sym", "code", "code_after", "word"], weights=[6, 4, 1, 1])[0]
            if self.currency == "code" and form == "sym":
                form = "code"
            jpy = form in ("code", "code_after") and self.cur_code == "JPY"
            value = log_uniform(rng, lo, hi, rng.choice([2, 2, 3]))
            if jpy:
                value *= 100
            cents = rng.random() < 0.25 and not jpy
            num = f"{value:,.2f}" if cents else f"{int(value):,}"
            if form == "sym":
                return f"{self.cur_sym}{num}"
            if form == "code":
                return f"{self.cur_code} {num}"
            if form == "code_after":
                return f"{num} {self.cur_code}"
            plural, _ = rng.choice(CURRENCY_WORD)
            return f"{int(value):,} {plural}"

        return ent("amounts", self.fresh(make))

    def amount_words(self) -> str:
        rng = self.rng

        def make() -> str:
            form = rng.randrange(4)
            if form == 0:
                plural, _ = rng.choice(CURRENCY_WORD)
                return f"{rng.choice(['1.2', '1.5', '2.5', '3', '4.75', '12', '0.8'])} " \
                       f"million {plural}"
            if form == 1:
                n = rng.choice([2, 3, 5, 8, 10, 12, 15, 20])
                return f"{NUMBER_WORDS[n].title()} Thousand Dollars (${n},000)"
            if form == 2:
                return f"{rng.choice(['$', '€', '£', 'USD ', 'EUR '])}" \
                       f"{rng.choice(['1.1', '2', '2.4', '6.5', '0.9', '15'])} million"
            n = rng.choice([2, 3, 4, 6, 7, 9])
            plural, _ = rng.choice(CURRENCY_WORD)
            return f"{NUMBER_WORDS[n]} hundred thousand {plural}"

        return ent("amounts", self.fresh(make))

    def amount_datelike(self) -> str:
        rng = self.rng

        def make() -> str:
            cur = rng.choice(["$", "€", "£", "USD ", "EUR "])
            if rng.random() < 0.5:
                return f"{cur}{rng.choice([2019, 2020, 2023, 2024, 2025]):,}." \
                       f"{rng.randint(1, 12):02d}"
            return f"{cur}{rng.randint(1, 28)}.{rng.randint(1, 12):02d}"

        return ent("amounts", self.fresh(make))

    # non-entities ---------------------------------------------------------
    def company(self) -> str:
        rng = self.rng
        return other(self.fresh(
            lambda: f"{rng.choice(CO_PREFIX)} {rng.choice(CO_CORE)} {rng.choice(CO_SUFFIX)}"))

    def surname_company(self, surname: str | None = None) -> str:
        rng = self.rng
        form = rng.choice(SURNAME_CO)
        return other(self.fresh(lambda: form.format(
            s=surname or rng.choice(LAST_NAMES), s2=rng.choice(LAST_NAMES))))

    def address_company(self) -> str:
        rng = self.rng
        return other(self.fresh(lambda: f"{rng.choice(ADDRESS_CO_NUM)} "
                                         f"{rng.choice(STREETS)} {rng.choice(ADDRESS_CO_TAIL)}"))

    def fill(self, slot: str) -> str:
        rng = self.rng
        if slot in HARD_SLOTS:
            self.hard_tags.add(slot)
        if slot == "P":
            return self.person(titled=False)
        if slot == "TP":
            return self.person(titled=True)
        if slot == "PS":
            return self.person(titled=True, surname=self.surname)
        if slot == "D":
            return self.date()
        if slot == "DT":
            return self.date_ordinal()
        if slot == "DU":
            return self.duration()
        if slot == "DUs":
            return self.duration("short")
        if slot == "DUl":
            return self.duration("long")
        if slot == "A":
            return self.address()
        if slot == "AM":
            return self.address("mail")
        if slot == "APO":
            return self.address("po")
        if slot == "M":
            return self.amount()
        if slot == "Ms":
            return self.amount("small")
        if slot == "Mm":
            return self.amount("medium")
        if slot == "Ml":
            return self.amount("large")
        if slot == "MW":
            return self.amount_words()
        if slot == "MD":
            return self.amount_datelike()
        if slot == "C":
            return self.company()
        if slot == "CS":
            return self.surname_company(self.surname)
        if slot == "CSR":
            return self.surname_company()
        if slot == "CA":
            return self.address_company()
        if slot == "CITY":
            return other(self.fresh(lambda: rng.choice(BARE_CITIES)))
        if slot == "REF":
            return other(self.fresh(lambda: rng.choice([
                f"clause {rng.randint(2, 24)}.{rng.randint(1, 9)}", f"Clause {rng.randint(3, 30)}",
                f"Section {rng.randint(2, 18)}",
                f"Section {rng.randint(2, 14)}({rng.choice('abcd')})",
                f"Article {rng.randint(2, 40)}", f"paragraph {rng.randint(2, 12)}",
                f"Schedule {rng.randint(1, 6)}",
                f"Rule {rng.randint(3, 80)}.{rng.randint(1, 9)}"])))
        if slot in ITEMS:
            self.hard_tags.add("CNT")
            n = rng.choice([2, 3, 4, 5, 6] if slot != "CNTG" else [2, 4, 6, 8, 12, 20, 40, 150])
            word = rng.choice(ITEMS[slot])
            spelled = number_words(n) if n < 25 else n
            return other(self.fresh(
                lambda: rng.choice([f"{n} {word}", f"{n} {word}", f"{spelled} {word}"])))
        if slot == "N":
            return other(str(rng.randint(2, 14)))
        if slot == "INV":
            return other(self.fresh(lambda: rng.choice([
                f"INV-{rng.randint(2021, 2025)}-{rng.randint(1, 1231):04d}",
                f"No. {rng.randint(10000, 99999)}", f"#{rng.randint(1000, 99999)}",
                f"{rng.randint(2021, 2025)}/{rng.randint(100, 999)}"])))
        if slot == "PO":
            return other(self.fresh(lambda: rng.choice([
                f"PO-{rng.randint(10000, 99999)}",
                f"{rng.randint(2021, 2025)}{rng.randint(101, 1231):04d}",
                f"no. {rng.randint(1000, 9999)}"])))
        if slot == "CASE":
            return other(self.fresh(lambda: rng.choice([
                f"Case No. {rng.randint(1, 4)}:{rng.randint(19, 25)}-cv-"
                f"{rng.randint(100, 9999):05d}",
                f"Claim No. KB-{rng.randint(2019, 2025)}-{rng.randint(100, 9999):06d}",
                f"Index No. {rng.randint(100000, 999999)}/{rng.randint(2019, 2025)}",
                f"case {rng.randint(10, 99)}-{rng.randint(1000, 9999)}"])))
        if slot == "PCT":
            return other(rng.choice([f"{rng.randint(2, 12)}%", f"{rng.randint(2, 9)}.5%",
                                     f"{rng.randint(2, 10)} per cent"]))
        if slot == "TIME":
            return other(rng.choice(["9:00 a.m.", "10:30 a.m.", "2 p.m.", "9.30am", "14:00",
                                     "11 a.m.", "3:15 p.m.", "noon"]))
        if slot == "DIST":
            distance = rng.choice([5, 10, 15, 25, 50])
            return other(f"{distance} {rng.choice(['miles', 'km', 'kilometres'])}")
        if slot == "UNIT":
            return other(f"{rng.choice(['Unit', 'Bay', 'Store', 'Workshop'])} {rng.randint(2, 60)}")
        if slot == "EXH":
            return other(rng.choice(["A", "B", "C", "D", "JS-1", "KM-3", "14", "7"]))
        if slot == "ROLE":
            return rng.choice(ROLES)
        if slot == "GOODS":
            return rng.choice(GOODS)
        if slot == "JUR":
            return rng.choice(JURISDICTIONS)
        raise KeyError(slot)


# ---------------------------------------------------------------------------
# Rendering and checks
# ---------------------------------------------------------------------------
ALT_RE = re.compile(r"\[([^\[\]]*)\]")
SLOT_RE = re.compile(r"\{(\w+)\}")
UNIT_RE = re.compile(r"\b(\d+|" + "|".join(NUMBER_WORDS[1:] + list(TENS_WORDS.values()))
                     + r")\s+(?:\w+\s+)?(day|week|month|year|hour)s?\b", re.I)
MONTH_RE = re.compile(r"\b(" + "|".join(MONTHS + MONTH_ABBR) + r")\b")


def expand(rng: random.Random, template: str) -> str:
    while ALT_RE.search(template):
        template = ALT_RE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    return template


def tidy(text: str) -> str:
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" +([,.;:)?])", r"\1", text)
    text = re.sub(r"\.((?:[\x03\x05])?)\.", r".\1", text)  # "Inc." at the end of a sentence
    return text.strip()


def capitalize_first(text: str) -> str:
    for i, ch in enumerate(text):
        if ch >= " ":
            return text[:i] + ch.upper() + text[i + 1:]
    return text


def render(rng: random.Random, category: str, t_index: int) -> tuple[str, dict, set[str], str]:
    """One candidate from one template: (text, answer object, hard tags, template key)."""
    template = TEMPLATES[category][t_index]
    # A second sentence, but not after a sign-off ("Regards, {P}").
    if template.rstrip("]|").endswith((".", "?")) and rng.random() < TAIL_PROB:
        template = template + " " + rng.choice(TAILS)
    item = Item(rng)
    marked = SLOT_RE.sub(lambda m: item.fill(m.group(1)), expand(rng, template))
    marked = capitalize_first(tidy(marked))
    check_literal(marked, template)

    # Strip the markers, recording where each entity span lands.
    spans: list[tuple[int, str, str]] = []
    out, pos, cursor = [], 0, 0
    plain = marked.replace("\x04", "").replace("\x05", "")
    for m in ENT_RE.finditer(plain):
        out.append(plain[cursor:m.start()])
        pos += m.start() - cursor
        spans.append((pos, CODE_TYPES[m.group(1)], m.group(2)))
        out.append(m.group(2))
        pos += len(m.group(2))
        cursor = m.end()
    out.append(plain[cursor:])
    text = "".join(out)
    if any(ch in text for ch in "\x01\x03\x04\x05\x11\x12\x13\x14\x15"):
        raise AssertionError(f"marker left in text: {text!r}")

    answer: dict[str, list[str]] = {k: [] for k in KEYS}
    for start, kind, value in sorted(spans):
        if text[start:start + len(value)] != value:
            raise AssertionError(f"span {value!r} not at {start} in {text!r}")
        if value not in answer[kind]:
            answer[kind].append(value)
    return text, answer, item.hard_tags, f"{category}:{t_index}"


def check_literal(marked: str, template: str) -> None:
    """The template's own words must hold no entity the answer would miss."""
    literal = MASK_RE.sub(" ", marked)
    problems = []
    if re.search(r"\d", literal):
        problems.append("digit")
    if re.search(r"[$€£¥]", literal):
        problems.append("currency")
    if MONTH_RE.search(literal):
        problems.append("month name")
    if UNIT_RE.search(literal):
        problems.append("number + time unit")
    if problems:
        raise AssertionError(f"template text holds an unrecorded {problems}: {template!r} "
                             f"-> {literal!r}")


def word_count(text: str) -> int:
    return len(text.split())


def answer_json(answer: dict) -> str:
    return json.dumps(answer, ensure_ascii=False)


# ---------------------------------------------------------------------------
# Near-duplicate index (same as legal_classifier, plus 3-gram containment)
# ---------------------------------------------------------------------------
TOKEN_RE = re.compile(r"[a-z0-9]+")


def ngrams(text: str, n: int) -> frozenset:
    tokens = TOKEN_RE.findall(text.lower())
    if len(tokens) < n:
        return frozenset([tuple(tokens)])
    return frozenset(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


class NgramIndex:
    """Inverted index from n-gram to item, so a candidate is compared only with
    items it shares at least one n-gram with."""

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
        """Largest share of either set's n-grams found in the other."""
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
def category_quotas(n: int) -> dict[str, int]:
    """Largest-remainder split of n over CATEGORY_WEIGHTS."""
    total = sum(CATEGORY_WEIGHTS.values())
    raw = {c: n * w / total for c, w in CATEGORY_WEIGHTS.items()}
    quotas = {c: int(v) for c, v in raw.items()}
    for c in sorted(raw, key=lambda c: (-(raw[c] - quotas[c]), c))[:n - sum(quotas.values())]:
        quotas[c] += 1
    return quotas


def build_splits(seed: int) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    rng = random.Random(seed)
    index = DedupIndex()
    splits, meta = {}, {}
    for split in ["test", "validation", "train"]:  # held-out splits first
        drawn = []
        for category, quota in category_quotas(SPLIT_SIZES[split]).items():
            # Deal the category's templates in shuffled rounds, so each is used
            # about equally often in every split.
            n_templates = len(TEMPLATES[category])
            order: list[int] = []
            while len(order) < quota:
                order += rng.sample(range(n_templates), n_templates)
            for t_index in order[:quota]:
                for _ in range(MAX_ATTEMPTS):
                    text, answer, tags, key = render(rng, category, t_index)
                    if MIN_WORDS <= word_count(text) <= MAX_WORDS and index.accepts(text):
                        break
                else:
                    raise RuntimeError(f"no distinct '{category}' item in {MAX_ATTEMPTS} tries")
                index.add(text, split)
                drawn.append((text, answer, {"category": category, "hard": tags, "template": key}))
        rng.shuffle(drawn)
        splits[split], meta[split] = [], []
        for n, (text, answer, info) in enumerate(drawn, 1):
            splits[split].append({"id": f"{PREFIX}-{split}-{n:05d}", "messages": [
                {"role": "user", "content": text},
                {"role": "assistant", "content": answer_json(answer)}]})
            meta[split].append(info)
    order = list(SPLIT_SIZES)
    return {s: splits[s] for s in order}, {s: meta[s] for s in order}


def verify(splits: dict[str, list[dict]]) -> None:
    """Re-read every item as a checker would: keys, order, verbatim spans."""
    for items in splits.values():
        for item in items:
            text = item["messages"][0]["content"]
            obj = json.loads(item["messages"][1]["content"])
            assert list(obj) == KEYS, item["id"]
            assert item["messages"][1]["content"] == answer_json(obj), item["id"]
            for key in KEYS:
                values = obj[key]
                assert len(values) == len(set(values)), item["id"]
                for v in values:
                    assert isinstance(v, str) and v and v in text, (item["id"], v)


def max_cross_split_similarity(splits: dict[str, list[dict]]) -> tuple[float, str, str]:
    index = NgramIndex(SHINGLE)
    ids = []
    for split, items in splits.items():
        for item in items:
            index.add(item["messages"][0]["content"], split)
            ids.append(item["id"])
    best = (0.0, "", "")
    for idx, (sh, tag) in enumerate(zip(index.sets, index.tags)):
        sim, other_idx = index.max_jaccard(sh, skip_tag=tag)
        if sim > best[0]:
            best = (sim, ids[idx], ids[other_idx])
    return best


def write_jsonl(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")


def print_report(splits: dict[str, list[dict]], meta: dict[str, list[dict]]) -> None:
    names = list(splits)
    print(f"{'':<34}" + "".join(f"{s:>12}" for s in names))
    print(f"{'items':<34}" + "".join(f"{len(splits[s]):>12}" for s in names))
    for cat in CATEGORY_WEIGHTS:
        print(f"{'category ' + cat:<34}" + "".join(
            f"{sum(m['category'] == cat for m in meta[s]):>12}" for s in names))
    answers = {s: [json.loads(i["messages"][1]["content"]) for i in splits[s]] for s in names}
    for key in KEYS:
        print(f"{'with ' + key:<34}" + "".join(
            f"{sum(bool(a[key]) for a in answers[s]):>12}" for s in names))
        print(f"{'  spans ' + key:<34}" + "".join(
            f"{sum(len(a[key]) for a in answers[s]):>12}" for s in names))
    print(f"{'all five lists empty':<34}" + "".join(
        f"{sum(not any(a.values()) for a in answers[s]):>12}" for s in names))
    print(f"{'dates and durations both':<34}" + "".join(
        f"{sum(bool(a['dates']) and bool(a['durations']) for a in answers[s]):>12}"
        for s in names))
    print(f"{'2+ people':<34}" + "".join(
        f"{sum(len(a['people']) >= 2 for a in answers[s]):>12}" for s in names))
    for slot, desc in HARD_SLOTS.items():
        print(f"{'hard: ' + slot:<34}" + "".join(
            f"{sum(slot in m['hard'] for m in meta[s]):>12}" for s in names) + f"   {desc}")
    for s in names:
        lengths = [word_count(i["messages"][0]["content"]) for i in splits[s]]
        templates = len({m["template"] for m in meta[s]})
        print(f"{s}: words mean {sum(lengths) / len(lengths):.1f}, min {min(lengths)}, "
              f"max {max(lengths)}; {templates} templates used")
    sim, a, b = max_cross_split_similarity(splits)
    print(f"max cross-split 5-gram Jaccard: {sim:.3f} ({a} vs {b})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=13, help="random seed (default 13)")
    parser.add_argument("--out", type=Path, default=HERE / "data",
                        help="output folder for train/validation/test.jsonl")
    args = parser.parse_args()

    splits, meta = build_splits(args.seed)
    verify(splits)
    for split, items in splits.items():
        write_jsonl(args.out / f"{split}.jsonl", items)
    print_report(splits, meta)


if __name__ == "__main__":
    main()
