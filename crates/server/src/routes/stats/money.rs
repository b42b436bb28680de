//! Revenue amounts as Plausible's Stats API writes them: `{"value", "currency", "short",
//! "long"}`. What Plausible does (read in plausible/analytics, not run):
//!
//! - `extra/lib/plausible/stats/goal/revenue.ex` (`format_revenue_metric`) builds
//!   `Money.new!(value || 0, currency)` and answers `value: Decimal.to_float(money.amount)`,
//!   `long: Money.to_string!(money)` and `short: Money.to_string!(money, format: :short,
//!   fractional_digits: 1)` (ex_money over ex_cldr_numbers, locale `en`).
//! - Amounts are stored with three decimals, and the value is not rounded further: its test
//!   "returns formatted average and total values for a conversion with revenue value"
//!   (`test/plausible_web/controllers/api/stats_controller/conversions_test.exs`) expects 200100300.123 + 300100400.123 + 0 as `value` 500200700.246, `long`
//!   "€500,200,700.25", `short` "€500.2M", and their average (over the 3 events with revenue)
//!   as 166733566.748 (the decimal division truncates), "€166,733,566.75", "€166.7M"; 10 as
//!   10.0, "€10.00", "€10.0".
//! - `long` is CLDR's standard currency format for `en`: the currency's digits (2; 0 for JPY,
//!   KRW, ...; 3 for BHD, KWD, ...), half-even rounding, `,` grouping, `-` before the symbol.
//! - `short` is CLDR's short currency format: below 1000 the standard format with one
//!   decimal; from 1000 the mantissa with one decimal and K, M, B or T, the magnitude chosen
//!   from the unrounded amount (so 999,950 is "1000.0K"), no grouping.
//! - The symbol is CLDR `en`'s (`€`, `$`, `£`, `¥`, `A$`, ...), else the ISO code, which
//!   ex_cldr joins to the digits with a no-break space (`CHF 3.00`), per CLDR's currency
//!   spacing after a letter.
//!
//! Decimal arithmetic is done on whole thousandths (`i128`), so the roundings are decimal ones,
//! never binary floating point's.

use serde_json::{json, Value};

/// The stored precision: thousandths.
const SCALE: i128 = 1000;

/// An amount at the stored precision. Totals round to the nearest thousandth (the events'
/// amounts had at most three decimals); averages truncate, as a decimal division does.
pub fn thousandths(v: f64, average: bool) -> i128 {
    // First to a billionth, which absorbs binary noise (0.3 stored as 0.2999…), then to the
    // thousandth.
    let fine = (v * 1e9).round() as i128;
    if average {
        fine / 1_000_000
    } else {
        let (q, r) = (fine / 1_000_000, fine % 1_000_000);
        q + if r >= 500_000 {
            1
        } else if r <= -500_000 {
            -1
        } else {
            0
        }
    }
}

/// The value Plausible shows for an amount (`value`).
pub fn value_of(v: f64, average: bool) -> f64 {
    thousandths(v, average) as f64 / SCALE as f64
}

/// `{value, currency, short, long}` of `v` in `currency`.
pub fn money(v: f64, currency: &str, average: bool) -> Value {
    let n = thousandths(v, average);
    json!({
        "value": n as f64 / SCALE as f64,
        "currency": currency,
        "short": short(n, currency),
        "long": long(n, currency),
    })
}

/// CLDR `en` symbols; other currencies show their code.
fn symbol(currency: &str) -> Option<&'static str> {
    Some(match currency {
        "AUD" => "A$",
        "BRL" => "R$",
        "CAD" => "CA$",
        "CNY" => "CN¥",
        "EUR" => "€",
        "GBP" => "£",
        "HKD" => "HK$",
        "ILS" => "₪",
        "INR" => "₹",
        "JPY" => "¥",
        "KRW" => "₩",
        "MXN" => "MX$",
        "NZD" => "NZ$",
        "PHP" => "₱",
        "TWD" => "NT$",
        "USD" => "$",
        "VND" => "₫",
        "XAF" => "FCFA",
        "XCD" => "EC$",
        "XOF" => "F\u{202f}CFA",
        "XPF" => "CFPF",
        _ => return None,
    })
}

/// The currency's digits (CLDR's currency data; 2 when it names none).
fn digits(currency: &str) -> u32 {
    match currency {
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        _ => 2,
    }
}

/// `n` thousandths rounded half to even to `places` decimals, as (whole units, fraction).
fn round_half_even(n: i128, places: u32) -> (i128, i128) {
    let step = SCALE / 10i128.pow(places.min(3));
    let (q, r) = (n / step, n % step);
    let q = match (2 * r).cmp(&step) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal if q % 2 != 0 => q + 1,
        _ => q,
    };
    let unit = 10i128.pow(places.min(3));
    (q / unit, q % unit)
}

/// The digits of a non-negative amount: `whole.fraction`, with `,` grouping when asked.
fn digits_text(whole: i128, fraction: i128, places: u32, grouped: bool) -> String {
    let int = whole.to_string();
    let mut out = String::with_capacity(int.len() + 8);
    for (i, c) in int.chars().enumerate() {
        if grouped && i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if places > 0 {
        out.push_str(&format!(".{fraction:0width$}", width = places as usize));
    }
    out
}

/// The symbol (or code, then a no-break space) before the digits, `-` before both.
fn with_symbol(negative: bool, currency: &str, digits: &str) -> String {
    let sign = if negative { "-" } else { "" };
    match symbol(currency) {
        Some(s) if !s.ends_with(char::is_alphabetic) => format!("{sign}{s}{digits}"),
        Some(s) => format!("{sign}{s}\u{a0}{digits}"),
        None => format!("{sign}{currency}\u{a0}{digits}"),
    }
}

/// `Money.to_string!(money)`: the standard currency format.
fn long(n: i128, currency: &str) -> String {
    let places = digits(currency);
    let (whole, fraction) = round_half_even(n.abs(), places);
    let negative = n < 0 && (whole, fraction) != (0, 0);
    with_symbol(
        negative,
        currency,
        &digits_text(whole, fraction, places, true),
    )
}

/// `Money.to_string!(money, format: :short, fractional_digits: 1)`.
fn short(n: i128, currency: &str) -> String {
    let a = n.abs();
    // The magnitude from the unrounded amount: 10^3 (K), 10^6 (M), 10^9 (B), 10^12 (T).
    let (scaled, suffix, grouped) = [(12, "T"), (9, "B"), (6, "M"), (3, "K")]
        .into_iter()
        .find(|(e, _)| a >= SCALE * 10i128.pow(*e))
        .map(|(e, s)| (a / 10i128.pow(e), s, false))
        .unwrap_or((a, "", true));
    let (whole, fraction) = round_half_even(scaled, 1);
    let negative = n < 0 && (whole, fraction) != (0, 0);
    let text = digits_text(whole, fraction, 1, grouped) + suffix;
    with_symbol(negative, currency, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(v: f64, c: &str, average: bool) -> (f64, String, String) {
        let j = money(v, c, average);
        (
            j["value"].as_f64().unwrap(),
            j["short"].as_str().unwrap().to_string(),
            j["long"].as_str().unwrap().to_string(),
        )
    }

    #[test]
    fn plausibles_own_examples() {
        let total = 200_100_300.123 + 300_100_400.123 + 0.0;
        assert_eq!(
            m(total, "EUR", false),
            (500_200_700.246, "€500.2M".into(), "€500,200,700.25".into())
        );
        assert_eq!(
            m(total / 3.0, "EUR", true),
            (166_733_566.748, "€166.7M".into(), "€166,733,566.75".into())
        );
        assert_eq!(
            m(10.0, "EUR", false),
            (10.0, "€10.0".into(), "€10.00".into())
        );
        assert_eq!(m(112.0, "EUR", false).1, "€112.0");
        assert_eq!(money(56.0, "EUR", true)["currency"], json!("EUR"));
    }

    #[test]
    fn cldr_rules_for_digits_symbols_signs_and_magnitudes() {
        assert_eq!(m(1234.5, "EUR", false).1, "€1.2K");
        assert_eq!(m(1234.5, "EUR", false).2, "€1,234.50");
        assert_eq!(m(2_500_000.0, "USD", false).1, "$2.5M");
        assert_eq!(m(3.2e12, "USD", false).1, "$3.2T");
        // The magnitude comes from the unrounded amount.
        assert_eq!(m(999_950.0, "USD", false).1, "$1000.0K");
        assert_eq!(m(999.96, "USD", false).1, "$1,000.0");
        // Half to even on the decimal amount (0.125 → 0.12, 0.135 → 0.14; 1.25K → 1.2K).
        assert_eq!(m(0.125, "EUR", false).2, "€0.12");
        assert_eq!(m(0.135, "EUR", false).2, "€0.14");
        assert_eq!(m(1250.0, "EUR", false).1, "€1.2K");
        assert_eq!(m(1150.0, "EUR", false).1, "€1.2K");
        // The currency's own digits, codes after a no-break space, the sign first.
        assert_eq!(m(1234.5, "JPY", false).2, "¥1,234");
        assert_eq!(m(1235.5, "JPY", false).2, "¥1,236");
        assert_eq!(m(1234.5, "JPY", false).1, "¥1.2K");
        assert_eq!(m(1.2344, "KWD", false).2, "KWD\u{a0}1.234");
        assert_eq!(m(-3.0, "CHF", false).2, "-CHF\u{a0}3.00");
        assert_eq!(m(-1500.0, "GBP", false).1, "-£1.5K");
        assert_eq!(m(7.0, "CAD", false).2, "CA$7.00");
        assert_eq!(m(-0.001, "EUR", false).2, "€0.00");
        // Binary noise never shows: 0.1 + 0.2 is 0.3.
        assert_eq!(m(0.1 + 0.2, "EUR", false).0, 0.3);
        assert_eq!(value_of(0.0126, false), 0.013);
    }
}
