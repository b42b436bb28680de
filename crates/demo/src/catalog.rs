//! The demo shop's content: an outdoor-gear catalogue of 40 products in six categories, blog
//! posts, service pages, what visitors search for (and how many results they get) and the filters.

use rand::rngs::StdRng;
use rand::Rng;

use crate::random::{pick, pick_index};

/// A product category: URL slug and display name.
pub(crate) struct Category {
    pub slug: &'static str,
    pub name: &'static str,
    /// Filter facets offered on the category page, with their values.
    pub facets: &'static [(&'static str, &'static [&'static str])],
}

const SIZE_CLOTHES: (&str, &[&str]) = ("size", &["XS", "S", "M", "L", "XL"]);
const SIZE_SHOES: (&str, &[&str]) = ("size", &["39", "40", "41", "42", "43", "44", "45"]);
const COLOR: (&str, &[&str]) = (
    "color",
    &["black", "blue", "green", "red", "grey", "orange"],
);
const PRICE: (&str, &[&str]) = ("price", &["0-50", "50-100", "100-200", "200+"]);
const VOLUME: (&str, &[&str]) = ("volume", &["<20 l", "20-35 l", "35-50 l", "50+ l"]);
const PERSONS: (&str, &[&str]) = ("persons", &["1", "2", "3-4"]);
const WATERPROOF: (&str, &[&str]) = ("waterproof", &["yes"]);

pub(crate) const CATEGORIES: &[Category] = &[
    Category {
        slug: "backpacks",
        name: "Backpacks",
        facets: &[VOLUME, COLOR, PRICE],
    },
    Category {
        slug: "jackets",
        name: "Jackets",
        facets: &[SIZE_CLOTHES, COLOR, WATERPROOF, PRICE],
    },
    Category {
        slug: "footwear",
        name: "Footwear",
        facets: &[SIZE_SHOES, WATERPROOF, PRICE],
    },
    Category {
        slug: "tents",
        name: "Tents",
        facets: &[PERSONS, PRICE],
    },
    Category {
        slug: "camp-kitchen",
        name: "Camp Kitchen",
        facets: &[PRICE],
    },
    Category {
        slug: "accessories",
        name: "Accessories",
        facets: &[COLOR, PRICE],
    },
];

/// A product: URL slug, name, category index and price in EUR.
pub(crate) struct Product {
    pub slug: &'static str,
    pub name: &'static str,
    pub category: usize,
    pub price: f64,
}

const fn product(slug: &'static str, name: &'static str, category: usize, price: f64) -> Product {
    Product {
        slug,
        name,
        category,
        price,
    }
}

/// In rough order of popularity (bestsellers first).
pub(crate) const PRODUCTS: &[Product] = &[
    product("ridge-28-daypack", "Ridge 28 Daypack", 0, 89.0),
    product("stormline-rain-jacket", "Stormline Rain Jacket", 1, 179.0),
    product("trailfinder-mid-gtx", "Trailfinder Mid GTX", 2, 159.0),
    product("alpine-2-tent", "Alpine 2 Tent", 3, 329.0),
    product(
        "merino-hiking-socks-3-pack",
        "Merino Hiking Socks (3-pack)",
        5,
        39.0,
    ),
    product("summit-45-backpack", "Summit 45 Backpack", 0, 149.0),
    product(
        "featherlite-down-jacket",
        "Featherlite Down Jacket",
        1,
        229.0,
    ),
    product("titanium-pot-900", "Titanium Pot 900", 4, 49.0),
    product("headlamp-400", "Headlamp 400", 5, 45.0),
    product("canister-stove-mini", "Canister Stove Mini", 4, 39.0),
    product("trail-runner-x2", "Trail Runner X2", 2, 139.0),
    product("fleece-midlayer", "Fleece Midlayer", 1, 79.0),
    product("trekking-poles-carbon", "Carbon Trekking Poles", 5, 119.0),
    product("city-commuter-20", "City Commuter 20", 0, 99.0),
    product("ultralight-1-tent", "Ultralight 1 Tent", 3, 389.0),
    product("softshell-pants", "Softshell Pants", 1, 109.0),
    product("insulated-bottle-750", "Insulated Bottle 750 ml", 5, 34.0),
    product("approach-shoe-pro", "Approach Shoe Pro", 2, 149.0),
    product("family-4-tent", "Family 4 Tent", 3, 449.0),
    product("hydration-pack-12", "Hydration Pack 12", 0, 79.0),
    product("windbreaker-packable", "Packable Windbreaker", 1, 89.0),
    product("camp-mug-set", "Camp Mug Set", 4, 29.0),
    product("rain-cover-m", "Backpack Rain Cover M", 5, 19.0),
    product("winter-boot-thermo", "Thermo Winter Boot", 2, 189.0),
    product("expedition-70-pack", "Expedition 70 Pack", 0, 259.0),
    product("hardshell-pro-jacket", "Hardshell Pro Jacket", 1, 349.0),
    product("cook-set-duo", "Cook Set Duo", 4, 69.0),
    product("beanie-merino", "Merino Beanie", 5, 29.0),
    product("gaiters-trail", "Trail Gaiters", 5, 35.0),
    product("tarp-3x3", "Tarp 3x3", 3, 89.0),
    product("hiking-sandal", "Hiking Sandal", 2, 79.0),
    product("kids-rain-jacket", "Kids Rain Jacket", 1, 69.0),
    product("sling-bag-5", "Sling Bag 5", 0, 49.0),
    product("spork-titanium", "Titanium Spork", 4, 12.0),
    product("water-filter-squeeze", "Squeeze Water Filter", 4, 44.0),
    product("bivy-shelter", "Bivy Shelter", 3, 199.0),
    product("gloves-softshell", "Softshell Gloves", 5, 39.0),
    product("duffel-60", "Duffel 60", 0, 119.0),
    product("camp-chair-lite", "Camp Chair Lite", 4, 79.0),
    product("vest-insulated", "Insulated Vest", 1, 129.0),
];

/// Popularity weight of the product at `rank` (a Zipf-like curve).
fn popularity(rank: usize) -> f64 {
    1.0 / ((rank + 2) as f64).powf(0.85)
}

/// A product index, by popularity, optionally from one category.
pub(crate) fn pick_product(rng: &mut StdRng, category: Option<usize>) -> usize {
    let weights: Vec<f64> = PRODUCTS
        .iter()
        .enumerate()
        .map(|(i, p)| match category {
            Some(c) if p.category != c => 0.0,
            _ => popularity(i),
        })
        .collect();
    pick_index(rng, &weights, |w| *w)
}

/// A category index, weighted by how much of the catalogue's popularity it holds.
pub(crate) fn pick_category(rng: &mut StdRng) -> usize {
    const WEIGHTS: &[f64] = &[3.0, 3.0, 2.0, 1.5, 1.2, 1.5];
    pick_index(rng, WEIGHTS, |w| *w)
}

/// A filter a visitor applies on a category page: (facet, value).
pub(crate) fn pick_filter(rng: &mut StdRng, category: usize) -> (&'static str, &'static str) {
    let facets = CATEGORIES[category].facets;
    let (facet, values) = facets[rng.random_range(0..facets.len())];
    (facet, values[rng.random_range(0..values.len())])
}

/// A site search: query, number of results, the category it leads to, and its share of searches.
pub(crate) struct Query {
    pub text: &'static str,
    pub results: u32,
    pub category: Option<usize>,
    pub weight: f64,
}

const fn query(text: &'static str, results: u32, category: Option<usize>, weight: f64) -> Query {
    Query {
        text,
        results,
        category,
        weight,
    }
}

/// What visitors type into the search box; about one search in seven finds nothing.
pub(crate) const QUERIES: &[Query] = &[
    query("rain jacket", 6, Some(1), 8.0),
    query("daypack", 5, Some(0), 6.0),
    query("hiking boots", 4, Some(2), 6.0),
    query("tent", 5, Some(3), 5.0),
    query("2 person tent", 2, Some(3), 3.0),
    query("down jacket", 3, Some(1), 3.0),
    query("stove", 2, Some(4), 3.0),
    query("headlamp", 1, Some(5), 3.0),
    query("trekking poles", 1, Some(5), 2.0),
    query("merino", 3, Some(5), 3.0),
    query("waterproof", 9, None, 3.0),
    query("gore-tex", 4, Some(2), 2.0),
    query("ultralight", 4, None, 2.0),
    query("water bottle", 1, Some(5), 2.0),
    query("sale", 12, None, 3.0),
    query("socks", 1, Some(5), 2.0),
    query("backpack 40l", 2, Some(0), 2.0),
    query("sleeping bag", 0, None, 3.0),
    query("kids jacket", 0, None, 1.5),
    query("camping chair", 0, None, 1.0),
    query("backpak", 0, None, 1.0),
    query("hammock", 0, None, 1.5),
];

/// A search: `Some(true)` picks a query with results, `Some(false)` one without, `None` any.
pub(crate) fn pick_query(rng: &mut StdRng, found: Option<bool>) -> &'static Query {
    pick(rng, QUERIES, |q| match found {
        Some(f) if f != (q.results > 0) => 0.0,
        _ => q.weight,
    })
}

/// Blog posts (`/blog/<slug>`), with the category each one links to.
pub(crate) const BLOG_POSTS: &[(&str, usize)] = &[
    ("how-to-pack-a-daypack", 0),
    ("best-hut-to-hut-hikes-in-the-alps", 0),
    ("waterproof-vs-water-resistant", 1),
    ("layering-for-autumn-hikes", 1),
    ("breaking-in-hiking-boots", 2),
    ("choosing-your-first-tent", 3),
    ("camp-coffee-three-ways", 4),
    ("ultralight-kitchen-under-300-grams", 4),
    ("what-to-bring-on-a-day-hike", 5),
];

/// Service and information pages.
pub(crate) const EXTRA_PAGES: &[&str] = &[
    "/about",
    "/shipping",
    "/returns",
    "/faq",
    "/contact",
    "/gift-cards",
    "/stores",
];

/// Replaces spaces for a query string (`rain jacket` → `rain+jacket`).
pub(crate) fn url_query(text: &str) -> String {
    text.replace(' ', "+")
}
