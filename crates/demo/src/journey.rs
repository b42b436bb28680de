//! One visit's path through the shop, as the tracker would report it: a pageview per page
//! (SPA navigations after the landing page carry no referrer), the shop's custom events
//! (Product View after 5 s on a product page, Search, Filter, Add to Cart, Begin Checkout,
//! Purchase) and an engagement event with engaged time and scroll depth when each page is left.

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{Map, Value};

use crate::catalog::{
    pick_category, pick_filter, pick_product, pick_query, url_query, BLOG_POSTS, CATEGORIES,
    EXTRA_PAGES, PRODUCTS,
};
use crate::random::{geometric, lognormal};
use crate::traffic::{behaviour, Landing, Visit};

/// The kind of a generated request, so that benchmark samples can be mixed by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Pageview,
    Engagement,
    Custom,
}

/// A request body as the tracker sends it, and when.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub ts: i64,
    pub kind: Kind,
    pub body: String,
}

/// Product View fires after this long on a product page (the article's definition).
const PRODUCT_VIEW_AFTER_MS: i64 = 5_000;
const MAX_DWELL_MS: f64 = 10.0 * 60_000.0;

struct Custom {
    offset: i64,
    name: &'static str,
    props: Map<String, Value>,
    revenue: Option<f64>,
}

struct Page {
    path: String,
    dwell: i64,
    /// Engaged time is at least this (custom events that need engagement happened).
    engaged_min: i64,
    scroll: (f64, f64),
    events: Vec<Custom>,
}

fn dwell(rng: &mut StdRng, median_s: f64, sigma: f64, min_s: f64) -> i64 {
    (lognormal(rng, median_s * 1000.0, sigma).clamp(min_s * 1000.0, MAX_DWELL_MS)) as i64
}

fn props<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn page(path: String, dwell: i64, scroll: (f64, f64)) -> Page {
    Page {
        path,
        dwell,
        engaged_min: 0,
        scroll,
        events: Vec::new(),
    }
}

fn home(rng: &mut StdRng) -> Page {
    page("/".into(), dwell(rng, 12.0, 0.8, 1.5), (15.0, 100.0))
}

fn extra(rng: &mut StdRng) -> Page {
    let path = EXTRA_PAGES[rng.random_range(0..EXTRA_PAGES.len())];
    page(path.into(), dwell(rng, 25.0, 0.8, 2.0), (20.0, 100.0))
}

fn blog(rng: &mut StdRng) -> (Page, usize) {
    let (slug, category) = BLOG_POSTS[rng.random_range(0..BLOG_POSTS.len())];
    (
        page(
            format!("/blog/{slug}"),
            dwell(rng, 70.0, 0.9, 3.0),
            (10.0, 100.0),
        ),
        category,
    )
}

fn category(rng: &mut StdRng, c: usize, filter_p: f64) -> Page {
    let mut p = page(
        format!("/category/{}", CATEGORIES[c].slug),
        dwell(rng, 20.0, 0.7, 2.0),
        (30.0, 100.0),
    );
    if rng.random_bool(filter_p) {
        let filters = 1 + geometric(rng, 0.6, 2);
        let mut offset = 0;
        for _ in 0..filters {
            offset += rng.random_range(2_500..12_000);
            let (facet, value) = pick_filter(rng, c);
            p.events.push(Custom {
                offset,
                name: "Filter",
                props: props([("facet", facet.into()), ("value", value.into())]),
                revenue: None,
            });
        }
        p.dwell = p.dwell.max(offset + rng.random_range(2_000..15_000));
        p.engaged_min = offset;
    }
    p
}

/// A search results page (see `pick_query` for `found`). Returns the category it leads to.
fn search(rng: &mut StdRng, found: Option<bool>) -> (Page, Option<usize>) {
    let q = pick_query(rng, found);
    let mut p = page(
        format!("/search?q={}", url_query(q.text)),
        dwell(rng, if q.results == 0 { 8.0 } else { 15.0 }, 0.7, 1.5),
        (10.0, 100.0),
    );
    p.events.push(Custom {
        offset: rng.random_range(300..900),
        name: "Search",
        props: props([("query", q.text.into()), ("results", q.results.into())]),
        revenue: None,
    });
    (p, q.category)
}

/// A product page; `viewed` means the visitor stays past 5 s, so Product View fires.
fn product(rng: &mut StdRng, index: usize, viewed: bool) -> Page {
    let p = &PRODUCTS[index];
    if !viewed {
        let d = rng.random_range(1_200..PRODUCT_VIEW_AFTER_MS - 200);
        return page(format!("/products/{}", p.slug), d, (5.0, 45.0));
    }
    let mut page = page(
        format!("/products/{}", p.slug),
        PRODUCT_VIEW_AFTER_MS + dwell(rng, 25.0, 0.8, 0.5),
        (35.0, 100.0),
    );
    page.engaged_min = PRODUCT_VIEW_AFTER_MS;
    page.events.push(Custom {
        offset: PRODUCT_VIEW_AFTER_MS,
        name: "Product View",
        props: props([
            ("product", p.name.into()),
            ("category", CATEGORIES[p.category].name.into()),
        ]),
        revenue: None,
    });
    page
}

fn add_to_cart(rng: &mut StdRng, page: &mut Page, index: usize) {
    let p = &PRODUCTS[index];
    if page.dwell < 9_000 {
        page.dwell = 9_000 + dwell(rng, 8.0, 0.6, 0.5);
    }
    let offset = rng.random_range(6_000..page.dwell - 1_000);
    page.engaged_min = page.engaged_min.max(offset);
    page.events.push(Custom {
        offset,
        name: "Add to Cart",
        props: props([("product", p.name.into()), ("price", p.price.into())]),
        revenue: None,
    });
}

/// A cart: product indexes, each with quantity 1.
struct Cart(Vec<usize>);

impl Cart {
    fn items(&self) -> u64 {
        self.0.len() as u64
    }

    /// Order total in EUR: items plus shipping under 50 EUR.
    fn total(&self) -> f64 {
        let sum: f64 = self.0.iter().map(|&i| PRODUCTS[i].price).sum();
        let shipping = if sum < 50.0 { 4.9 } else { 0.0 };
        ((sum + shipping) * 100.0).round() / 100.0
    }
}

/// The pages of a visit (without times).
fn pages(rng: &mut StdRng, visit: &Visit) -> Vec<Page> {
    let stop = behaviour(visit.source).browse_stop;
    let mut pages = Vec::new();
    let mut hint: Option<usize> = None;
    // The last product page viewed long enough: (page index, product index).
    let mut last_viewed: Option<(usize, usize)> = None;
    match visit.landing {
        Landing::Home => pages.push(home(rng)),
        Landing::Extra => pages.push(extra(rng)),
        Landing::Blog => {
            let (p, c) = blog(rng);
            hint = Some(c);
            pages.push(p);
        }
        Landing::Category(c) => {
            let c = c.unwrap_or_else(|| pick_category(rng));
            hint = Some(c);
            pages.push(category(rng, c, 0.3));
        }
        Landing::Product(c) => {
            let i = pick_product(rng, c);
            hint = Some(PRODUCTS[i].category);
            let viewed = visit.depth >= 1;
            if viewed {
                last_viewed = Some((0, i));
            }
            pages.push(product(rng, i, viewed));
        }
    }

    if visit.depth == 0 {
        // Looks around, never stays on a product page long enough to view it.
        let more = geometric(rng, 0.55, 4);
        for _ in 0..more {
            let x: f64 = rng.random();
            if x < 0.15 {
                pages.push(home(rng));
            } else if x < 0.40 {
                let c = hint.unwrap_or_else(|| pick_category(rng));
                pages.push(category(rng, c, 0.3));
            } else if x < 0.60 {
                // Searches that find nothing are a common reason to leave.
                let found = rng.random_bool(0.35).then_some(false);
                let (p, c) = search(rng, found);
                hint = c.or(hint);
                pages.push(p);
            } else if x < 0.70 {
                pages.push(blog(rng).0);
            } else if x < 0.80 {
                pages.push(extra(rng));
            } else {
                let keep = rng.random_bool(0.6);
                let i = pick_product(rng, hint.filter(|_| keep));
                pages.push(product(rng, i, false));
            }
        }
        return pages;
    }

    // Finds a product to view.
    if last_viewed.is_none() {
        let browse = geometric(rng, stop, 2);
        for _ in 0..browse {
            let x: f64 = rng.random();
            if x < 0.5 {
                let c = hint.unwrap_or_else(|| pick_category(rng));
                hint = Some(c);
                pages.push(category(rng, c, 0.35));
            } else if x < 0.8 {
                let (p, c) = search(rng, Some(true));
                hint = c.or(hint);
                pages.push(p);
            } else {
                pages.push(home(rng));
            }
        }
        let keep = rng.random_bool(0.7);
        let i = pick_product(rng, hint.filter(|_| keep));
        last_viewed = Some((pages.len(), i));
        pages.push(product(rng, i, true));
    }

    // Compares a few more products.
    let more = geometric(rng, stop, 5);
    for _ in 0..more {
        if rng.random_bool(0.25) {
            let c = hint.unwrap_or_else(|| pick_category(rng));
            pages.push(category(rng, c, 0.35));
        }
        let keep = rng.random_bool(0.6);
        let i = pick_product(rng, hint.filter(|_| keep));
        let viewed = rng.random_bool(0.7);
        if viewed {
            last_viewed = Some((pages.len(), i));
        }
        pages.push(product(rng, i, viewed));
    }

    if visit.depth == 1 {
        if rng.random_bool(0.2) {
            pages.push(if rng.random_bool(0.5) {
                home(rng)
            } else {
                extra(rng)
            });
        }
        return pages;
    }

    // Adds to cart from the last product viewed long enough, maybe a second item too.
    let mut cart = Cart(Vec::new());
    if let Some((pi, i)) = last_viewed {
        add_to_cart(rng, &mut pages[pi], i);
        cart.0.push(i);
    }
    if rng.random_bool(0.18) {
        let keep = rng.random_bool(0.5);
        let i = pick_product(rng, hint.filter(|_| keep));
        let mut p = product(rng, i, true);
        add_to_cart(rng, &mut p, i);
        cart.0.push(i);
        pages.push(p);
    }
    pages.push(page(
        "/cart".into(),
        dwell(rng, 15.0, 0.7, 2.0),
        (40.0, 100.0),
    ));

    if visit.depth == 2 {
        if rng.random_bool(0.35) {
            let i = pick_product(rng, hint);
            let viewed = rng.random_bool(0.5);
            pages.push(product(rng, i, viewed));
        }
        return pages;
    }

    let purchase = visit.depth >= 4;
    let mut checkout = page(
        "/checkout".into(),
        if purchase {
            dwell(rng, 100.0, 0.5, 25.0)
        } else {
            dwell(rng, 40.0, 0.8, 4.0)
        },
        (50.0, 100.0),
    );
    checkout.events.push(Custom {
        offset: rng.random_range(400..1_200),
        name: "Begin Checkout",
        props: props([("items", cart.items().into())]),
        revenue: None,
    });
    pages.push(checkout);

    if purchase {
        let mut done = page(
            "/checkout/complete".into(),
            dwell(rng, 20.0, 0.6, 2.0),
            (30.0, 100.0),
        );
        done.events.push(Custom {
            offset: rng.random_range(300..900),
            name: "Purchase",
            props: props([("items", cart.items().into())]),
            revenue: Some(cart.total()),
        });
        pages.push(done);
    } else if rng.random_bool(0.3) {
        pages.push(page(
            "/cart".into(),
            dwell(rng, 10.0, 0.7, 1.5),
            (20.0, 100.0),
        ));
    }
    pages
}

/// A Plausible Events API body.
#[allow(clippy::too_many_arguments)]
fn body(
    site: &str,
    name: &str,
    url: &str,
    referrer: Option<&str>,
    props: Option<&Map<String, Value>>,
    revenue: Option<f64>,
    engagement: Option<(u32, u8)>,
) -> String {
    let mut m = Map::new();
    m.insert("n".into(), name.into());
    m.insert("u".into(), url.into());
    m.insert("d".into(), site.into());
    if let Some(r) = referrer {
        m.insert("r".into(), r.into());
    }
    if let Some(p) = props.filter(|p| !p.is_empty()) {
        m.insert("p".into(), Value::Object(p.clone()));
    }
    if let Some(amount) = revenue {
        let mut rev = Map::new();
        rev.insert("amount".into(), amount.into());
        rev.insert("currency".into(), "EUR".into());
        m.insert("$".into(), Value::Object(rev));
    }
    if let Some((e, sd)) = engagement {
        m.insert("i".into(), false.into());
        m.insert("sd".into(), sd.into());
        m.insert("e".into(), e.into());
    }
    Value::Object(m).to_string()
}

/// Every request of `visit` on `site`, in the order the tracker sends them.
pub(crate) fn requests(rng: &mut StdRng, site: &str, visit: &Visit) -> Vec<Request> {
    if visit.bot {
        return bot_requests(rng, site, visit);
    }
    let pages = pages(rng, visit);
    let mut out = Vec::with_capacity(pages.len() * 3);
    let mut t = visit.start_ms;
    for (n, p) in pages.iter().enumerate() {
        let (url, referrer) = if n == 0 {
            let mut url = format!("https://{site}{}", p.path);
            if let Some(q) = &visit.landing_query {
                url.push(if url.contains('?') { '&' } else { '?' });
                url.push_str(q);
            }
            (url, visit.referrer.as_deref())
        } else {
            (format!("https://{site}{}", p.path), None)
        };
        out.push(Request {
            ts: t,
            kind: Kind::Pageview,
            body: body(site, "pageview", &url, referrer, None, None, None),
        });
        for e in &p.events {
            out.push(Request {
                ts: t + e.offset,
                kind: Kind::Custom,
                body: body(
                    site,
                    e.name,
                    &url,
                    referrer,
                    Some(&e.props),
                    e.revenue,
                    None,
                ),
            });
        }
        // A few engagement beacons are lost when a tab is killed.
        if !rng.random_bool(0.02) {
            let engaged = ((p.dwell as f64 * rng.random_range(0.6..1.0)) as i64).max(p.engaged_min);
            let (lo, hi) = p.scroll;
            let sd = lo + (hi - lo) * rng.random::<f64>().powf(0.7);
            out.push(Request {
                ts: t + p.dwell,
                kind: Kind::Engagement,
                body: body(
                    site,
                    "engagement",
                    &url,
                    referrer,
                    None,
                    None,
                    Some((engaged.min(p.dwell) as u32, sd.round() as u8)),
                ),
            });
        }
        t += p.dwell + rng.random_range(150..2_500);
    }
    out
}

/// A crawler rendering a few pages (pageviews only).
fn bot_requests(rng: &mut StdRng, site: &str, visit: &Visit) -> Vec<Request> {
    let n = 1 + geometric(rng, 0.4, 6);
    let mut t = visit.start_ms;
    (0..n)
        .map(|k| {
            let path = if k == 0 {
                "/".to_string()
            } else if rng.random_bool(0.7) {
                format!(
                    "/products/{}",
                    PRODUCTS[rng.random_range(0..PRODUCTS.len())].slug
                )
            } else {
                format!(
                    "/category/{}",
                    CATEGORIES[rng.random_range(0..CATEGORIES.len())].slug
                )
            };
            let url = format!("https://{site}{path}");
            let r = Request {
                ts: t,
                kind: Kind::Pageview,
                body: body(site, "pageview", &url, None, None, None, None),
            };
            t += rng.random_range(800..6_000);
            r
        })
        .collect()
}
