//! Validated values of the catalog: SKUs and money.

use crate::error::FieldError;
use poem_openapi::Object;
use poem_openapi::types::Example;

/// ISO 4217 codes of currencies in circulation.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP \
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD \
HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL \
MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB \
RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS \
VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// A price in integer minor units (cents) of an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Object)]
#[oai(example)]
pub struct Price {
    /// Minor units, e.g. 1999 for 19.99.
    pub amount: i64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
}

impl Example for Price {
    fn example() -> Self {
        Price {
            amount: 1999,
            currency: "EUR".into(),
        }
    }
}

impl Price {
    /// Checks the amount is not negative and the currency is an ISO 4217 code.
    pub fn validate(&self, pointer: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.amount < 0 {
            errors.push(FieldError::at(
                format!("{pointer}/amount"),
                "must not be negative",
            ));
        }
        if self.currency.len() != 3 || !ISO_4217.split_whitespace().any(|c| c == self.currency) {
            errors.push(FieldError::at(
                format!("{pointer}/currency"),
                "must be an ISO 4217 code such as EUR or USD",
            ));
        }
        errors
    }
}

/// A stock-keeping unit: 1–64 of `A–Z a–z 0–9 . _ -`.
pub fn parse_sku(raw: &str, pointer: &str) -> Result<String, FieldError> {
    let valid = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if valid {
        Ok(raw.to_string())
    } else {
        Err(FieldError::at(
            pointer,
            "must be 1–64 characters of letters, digits, '.', '_' or '-'",
        ))
    }
}

/// A product name: 1–200 characters after trimming.
pub fn parse_product_name(raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(FieldError::at("/name", "must not be empty")),
        n if n > 200 => Err(FieldError::at("/name", "must be at most 200 characters")),
        _ => Ok(name.to_string()),
    }
}

/// A description: at most 10,000 characters.
pub fn parse_description(raw: &str) -> Result<String, FieldError> {
    if raw.chars().count() > 10_000 {
        return Err(FieldError::at(
            "/description",
            "must be at most 10000 characters",
        ));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_need_a_real_currency_and_no_negative_amount() {
        assert!(
            Price {
                amount: 0,
                currency: "EUR".into()
            }
            .validate("/price")
            .is_empty()
        );
        let errors = Price {
            amount: -1,
            currency: "eur".into(),
        }
        .validate("/price");
        let pointers: Vec<_> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(pointers, ["/price/amount", "/price/currency"]);
        assert_eq!(
            Price {
                amount: 5,
                currency: "XYZ".into()
            }
            .validate("/price")
            .len(),
            1
        );
    }

    #[test]
    fn skus_have_a_pattern() {
        assert!(parse_sku("TEE-BLK.L_2", "/sku").is_ok());
        for bad in ["", "has space", "ümlaut", &"x".repeat(65)] {
            assert!(parse_sku(bad, "/sku").is_err(), "{bad}");
        }
    }
}
