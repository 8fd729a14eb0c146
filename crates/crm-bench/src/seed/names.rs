//! Word lists the generator combines into names, companies and domains.

pub const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Margaret",
    "Ken",
    "Radia",
    "Dennis",
    "Hedy",
    "Tim",
    "Katherine",
    "Claude",
    "Shafi",
    "Leslie",
    "Annie",
    "Niklaus",
    "Sophie",
    "Bjarne",
    "Mary",
    "Guido",
    "Karen",
    "Linus",
    "Jean",
    "Vint",
    "Evelyn",
    "Robin",
    "Lynn",
    "Ward",
    "Carol",
    "Brian",
    "Irene",
    "Peter",
    "Maria",
    "Ivan",
    "Elena",
    "Tomas",
    "Aiko",
    "Kenji",
    "Priya",
    "Rahul",
    "Fatima",
    "Omar",
    "Chen",
    "Mei",
    "Lucas",
    "Ines",
];

pub const LAST_NAME_STEMS: &[&str] = &[
    "Love", "Tur", "Hop", "Dijk", "Lis", "Knu", "Al", "Mc", "Ham", "Thomp", "Perl", "Rit", "Lam", "Bern", "John",
    "Sha", "Wirt", "Strou", "Ros", "Tor", "Gold", "Cerf", "Bol", "Mil", "Kern", "Hoare", "Nyg", "Back", "Bry", "Hed",
];

pub const LAST_NAME_ENDINGS: &[&str] =
    &["lace", "ing", "per", "stra", "kov", "th", "len", "son", "ton", "man", "ley", "ford", "berg", "ard", "wick"];

pub const COMPANY_WORDS: &[&str] = &[
    "Analytical",
    "Difference",
    "Harbour",
    "Northwind",
    "Granite",
    "Cobalt",
    "Meridian",
    "Juniper",
    "Aurora",
    "Beacon",
    "Summit",
    "Riverside",
    "Lakeshore",
    "Redwood",
    "Silver",
    "Orchard",
    "Falcon",
    "Keystone",
    "Lighthouse",
    "Pioneer",
    "Quantum",
    "Sterling",
    "Tidewater",
    "Vanguard",
    "Willow",
    "Atlas",
    "Bluebird",
    "Crescent",
    "Evergreen",
    "Horizon",
];

pub const COMPANY_KINDS: &[&str] = &[
    "Engines",
    "Systems",
    "Logistics",
    "Foods",
    "Textiles",
    "Labs",
    "Partners",
    "Robotics",
    "Analytics",
    "Energy",
    "Health",
    "Media",
    "Freight",
    "Software",
    "Instruments",
    "Materials",
    "Studios",
    "Bank",
    "Insurance",
    "Retail",
];

pub const COMPANY_SUFFIXES: &[&str] = &["Ltd", "GmbH", "Inc", "SA", "BV", "AB", "Oy", "LLC", "plc", "SAS"];

pub const TITLES: &[&str] = &[
    "CEO",
    "CTO",
    "Head of Operations",
    "Procurement Manager",
    "IT Director",
    "Office Manager",
    "VP Sales",
    "Finance Director",
    "Buyer",
    "Founder",
    "Engineering Manager",
    "Operations Analyst",
];

pub const INDUSTRIES: &[&str] =
    &["Manufacturing", "Retail", "Software", "Logistics", "Healthcare", "Finance", "Energy", "Education", "Media"];

pub const DEAL_WORDS: &[&str] =
    &["Renewal", "Expansion", "Pilot", "Rollout", "Upgrade", "Licences", "Support plan", "Migration", "Training"];

pub const PRODUCT_WORDS: &[&str] =
    &["Seat", "Licence", "Support", "Onboarding", "Module", "Storage", "Connector", "Training day", "Audit"];
