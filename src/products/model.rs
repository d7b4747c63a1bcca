//! Validated values of the catalog: SKUs, money and the text fields.

use crate::error::FieldError;
use crate::validate::TextRule;

/// ISO 4217 codes of currencies in circulation.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP \
BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD \
HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL \
MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB \
RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS \
VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// Declares a validated text value stored in a text column as the inner string.
macro_rules! text_value {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            PartialEq,
            Eq,
            Hash,
            serde::Serialize,
            serde::Deserialize,
            sea_orm::DeriveValueType,
        )]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_value!(
    /// A stock-keeping unit: 1–64 of `A–Z a–z 0–9 . _ -`.
    Sku
);

text_value!(
    /// An ISO 4217 currency code in circulation, e.g. `EUR`.
    Currency
);

impl Sku {
    pub fn parse(raw: &str, pointer: &str) -> Result<Sku, FieldError> {
        let valid = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if valid {
            Ok(Sku(raw.to_string()))
        } else {
            Err(FieldError::at(
                pointer,
                "must be 1–64 characters of letters, digits, '.', '_' or '-'",
            ))
        }
    }
}

impl Currency {
    pub fn parse(raw: &str, pointer: &str) -> Result<Currency, FieldError> {
        if raw.len() == 3 && ISO_4217.split_whitespace().any(|c| c == raw) {
            Ok(Currency(raw.to_string()))
        } else {
            Err(FieldError::at(
                pointer,
                "must be an ISO 4217 code such as EUR or USD",
            ))
        }
    }
}

/// A price in integer minor units (cents) of a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    /// Checks the amount is not negative and the currency is an ISO 4217 code; errors name
    /// `{pointer}/amount` and `{pointer}/currency`.
    pub fn parse(amount: i64, currency: &str, pointer: &str) -> Result<Money, Vec<FieldError>> {
        let mut errors = Vec::new();
        if amount < 0 {
            errors.push(FieldError::at(
                format!("{pointer}/amount"),
                "must not be negative",
            ));
        }
        let currency = Currency::parse(currency, &format!("{pointer}/currency"));
        match currency {
            Ok(currency) if errors.is_empty() => Ok(Money { amount, currency }),
            Ok(_) => Err(errors),
            Err(e) => {
                errors.push(e);
                Err(errors)
            }
        }
    }
}

/// A product name: 1–200 characters after trimming.
pub const NAME: TextRule = TextRule::required("/name", 200);

/// A description: at most 10,000 characters.
pub const DESCRIPTION: TextRule = TextRule::optional("/description", 10_000);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_need_a_real_currency_and_no_negative_amount() {
        assert!(Money::parse(0, "EUR", "/price").is_ok());
        let errors = Money::parse(-1, "eur", "/price").err().unwrap_or_default();
        let pointers: Vec<_> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(pointers, ["/price/amount", "/price/currency"]);
        assert_eq!(
            Money::parse(5, "XYZ", "/price")
                .err()
                .unwrap_or_default()
                .len(),
            1
        );
    }

    #[test]
    fn skus_have_a_pattern() {
        assert!(Sku::parse("TEE-BLK.L_2", "/sku").is_ok());
        for bad in ["", "has space", "ümlaut", &"x".repeat(65)] {
            assert!(Sku::parse(bad, "/sku").is_err(), "{bad}");
        }
    }
}
