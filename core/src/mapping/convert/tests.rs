use super::*;
use CanonicalType as C;

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn conv(v: Value, from: &C, to: &C) -> Result<Value, Unfit> {
    convert(v, from, to, UnfitPolicy::Error).map(|c| c.value)
}

fn dec(p: u32, s: u32) -> C {
    C::Decimal {
        precision: Some(p),
        scale: s,
    }
}

#[test]
fn decimals_take_their_scale_and_refuse_what_does_not_fit() {
    assert_eq!(normalize(text("12.34"), &dec(12, 4)), Ok(text("12.3400")));
    assert_eq!(normalize(text("-0.000"), &dec(5, 2)), Ok(text("0.00")));
    assert_eq!(
        normalize(
            text("007.5"),
            &C::Decimal {
                precision: None,
                scale: 0
            }
        ),
        Ok(text("7.5"))
    );
    assert_eq!(
        normalize(Value::Float(12.34), &dec(12, 4)),
        Ok(text("12.3400"))
    );
    assert_eq!(
        conv(Value::Float(0.1 + 0.2), &C::Float64, &dec(12, 4))
            .unwrap_err()
            .loss,
        Loss::Scale
    );
    assert_eq!(
        conv(text("123456789.5"), &dec(12, 1), &dec(12, 4))
            .unwrap_err()
            .loss,
        Loss::Range
    );
    let max = "99999999999999999999999999999999999999";
    assert_eq!(normalize(text(max), &dec(38, 0)), Ok(text(max)));
    assert_eq!(
        conv(text(max), &dec(38, 0), &C::Float64).unwrap_err().loss,
        Loss::Precision
    );
    let cut = convert(
        text("1.23456"),
        &dec(10, 5),
        &dec(10, 2),
        UnfitPolicy::Truncate,
    )
    .unwrap();
    assert_eq!(cut.value, text("1.23"));
    assert_eq!(cut.truncated.unwrap().loss, Loss::Scale);
}

#[test]
fn floats_and_decimals_meet_at_the_shortest_decimal() {
    assert_eq!(
        conv(text("12.3400"), &dec(12, 4), &C::Float64),
        Ok(Value::Float(12.34))
    );
    assert_eq!(
        conv(Value::Float(12.34), &C::Float64, &dec(12, 4)),
        Ok(text("12.3400"))
    );
    assert_eq!(
        conv(Value::Float(0.1 + 0.2), &C::Float64, &C::Float32)
            .unwrap_err()
            .loss,
        Loss::Precision
    );
    assert_eq!(
        conv(Value::Float(0.5), &C::Float64, &C::Float32),
        Ok(Value::Float(0.5))
    );
    assert_eq!(
        conv(Value::Int(i64::MAX), &C::Int64, &C::Float64)
            .unwrap_err()
            .loss,
        Loss::Precision
    );
    assert_eq!(
        conv(Value::Float(3.0), &C::Float64, &C::Int16),
        Ok(Value::Int(3))
    );
    assert_eq!(
        conv(Value::Float(3.5), &C::Float64, &C::Int16)
            .unwrap_err()
            .loss,
        Loss::Scale
    );
    assert_eq!(
        conv(Value::Float(f64::NAN), &C::Float64, &dec(10, 2))
            .unwrap_err()
            .loss,
        Loss::Range
    );
}

#[test]
fn integers_check_their_range() {
    assert_eq!(
        conv(Value::Int(127), &C::Int64, &C::Int8),
        Ok(Value::Int(127))
    );
    assert_eq!(
        conv(Value::Int(128), &C::Int64, &C::Int8).unwrap_err().loss,
        Loss::Range
    );
    assert_eq!(
        conv(Value::Int(1), &C::Int8, &C::Bool),
        Ok(Value::Bool(true))
    );
    assert_eq!(
        conv(Value::Int(2), &C::Int8, &C::Bool).unwrap_err().loss,
        Loss::Range
    );
    assert_eq!(normalize(Value::Int(0), &C::Bool), Ok(Value::Bool(false)));
    assert_eq!(normalize(text("t"), &C::Bool), Ok(Value::Bool(true)));
    assert_eq!(
        normalize(text("abc"), &C::Int64).unwrap_err().loss,
        Loss::Kind
    );
}

#[test]
fn text_checks_length_in_characters_and_unicode() {
    let v = |length, unicode| C::Varchar { length, unicode };
    let t = C::Text { unicode: true };
    assert_eq!(
        conv(text("变电站😀"), &t, &v(4, true)),
        Ok(text("变电站😀"))
    );
    assert_eq!(
        conv(text("变电站😀!"), &t, &v(4, true)).unwrap_err().loss,
        Loss::Length
    );
    assert_eq!(conv(text("café"), &t, &v(10, false)), Ok(text("café")));
    assert_eq!(
        conv(text("变"), &t, &v(10, false)).unwrap_err().loss,
        Loss::Unicode
    );
    let cut = convert(text("变电站表"), &t, &v(2, true), UnfitPolicy::Truncate).unwrap();
    assert_eq!(cut.value, text("变电"));
    assert_eq!(
        normalize(
            text("ab  "),
            &C::Char {
                length: 4,
                unicode: true
            }
        ),
        Ok(text("ab"))
    );
    assert_eq!(conv(Value::Int(-42), &C::Int32, &t), Ok(text("-42")));
    assert_eq!(conv(text("-42"), &t, &C::Int32), Ok(Value::Int(-42)));
}

#[test]
fn bytes_keep_zero_bytes_and_pad_fixed_binary() {
    let b = Value::Bytes(vec![0, 1, 0]);
    assert_eq!(
        conv(b.clone(), &C::Blob, &C::Binary { length: 4 }),
        Ok(Value::Bytes(vec![0, 1, 0, 0]))
    );
    assert_eq!(
        conv(b.clone(), &C::Blob, &C::Varbinary { length: 2 })
            .unwrap_err()
            .loss,
        Loss::Length
    );
    assert_eq!(
        conv(b, &C::Blob, &C::Text { unicode: true }),
        Ok(text("\0\u{1}\0"))
    );
}

#[test]
fn times_are_printed_one_way() {
    let ts = |fraction, time_zone| C::Timestamp {
        fraction,
        time_zone,
    };
    assert_eq!(
        normalize(text("2024-02-29 12:00:00.500000"), &ts(6, false)),
        Ok(text("2024-02-29 12:00:00.5"))
    );
    assert_eq!(
        normalize(text("2024-02-29T12:00:00"), &ts(6, false)),
        Ok(text("2024-02-29 12:00:00"))
    );
    assert_eq!(
        normalize(text("1969-07-20 20:17:40+00"), &ts(6, true)),
        Ok(text("1969-07-20 20:17:40"))
    );
    assert_eq!(
        normalize(text("2024-03-01 02:30:00+08:00"), &ts(6, true)),
        Ok(text("2024-02-29 18:30:00"))
    );
    assert_eq!(
        normalize(text("9999-12-31 23:59:59.999999"), &ts(6, false)),
        Ok(text("9999-12-31 23:59:59.999999"))
    );
    assert_eq!(
        conv(
            text("2024-02-29 12:00:00.123456"),
            &ts(6, false),
            &ts(3, false)
        )
        .unwrap_err()
        .loss,
        Loss::Fraction
    );
    assert_eq!(
        conv(text("2024-02-29"), &C::Date, &ts(0, false)),
        Ok(text("2024-02-29 00:00:00"))
    );
    assert_eq!(
        conv(text("2024-02-29 00:00:00"), &ts(0, false), &C::Date),
        Ok(text("2024-02-29"))
    );
    assert_eq!(
        conv(text("2024-02-29 00:00:01"), &ts(0, false), &C::Date)
            .unwrap_err()
            .loss,
        Loss::Precision
    );
    assert_eq!(
        normalize(text("2023-02-29"), &C::Date).unwrap_err().loss,
        Loss::Kind
    );
    assert_eq!(
        normalize(text("23:59:59.250"), &C::Time { fraction: 3 }),
        Ok(text("23:59:59.25"))
    );
}

#[test]
fn uuid_and_json_have_one_spelling() {
    assert_eq!(
        normalize(text("{A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11}"), &C::Uuid),
        Ok(text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
    );
    assert_eq!(
        normalize(text(r#"{"b": [1, 2.50], "a": "变"}"#), &C::Json),
        Ok(text(r#"{"a":"变","b":[1,2.50]}"#))
    );
    assert_eq!(normalize(text("{"), &C::Json).unwrap_err().loss, Loss::Kind);
}

#[test]
fn null_crosses_every_mapping() {
    assert_eq!(conv(Value::Null, &C::Json, &C::Int8), Ok(Value::Null));
}

#[test]
fn decimals_keep_their_scale_as_text() {
    let t = C::Text { unicode: true };
    assert_eq!(conv(text("1.5000"), &dec(10, 4), &t), Ok(text("1.5000")));
    assert_eq!(
        conv(
            text("1.50"),
            &C::Decimal {
                precision: None,
                scale: 0
            },
            &t
        ),
        Ok(text("1.5"))
    );
    assert_eq!(
        conv(text("2.50"), &C::Money { scale: 2 }, &t),
        Ok(text("2.50"))
    );
}

#[test]
fn hand_read_timestamps_agree_with_the_general_parser() {
    let ts = |time_zone| C::Timestamp {
        fraction: 6,
        time_zone,
    };
    for (input, instant, wall) in [
        (
            "2024-02-29 12:00:00.123456789",
            "2024-02-29 12:00:00.123456",
            "2024-02-29 12:00:00.123456",
        ),
        (
            "2024-03-01 02:30:00-05:30",
            "2024-03-01 08:00:00",
            "2024-03-01 02:30:00",
        ),
        (
            "2024-03-01 02:30:00+0800",
            "2024-02-29 18:30:00",
            "2024-03-01 02:30:00",
        ),
        (
            "2024-03-01T02:30:00Z",
            "2024-03-01 02:30:00",
            "2024-03-01 02:30:00",
        ),
        (
            "0001-01-01 00:00:00",
            "0001-01-01 00:00:00",
            "0001-01-01 00:00:00",
        ),
    ] {
        let cut =
            |v: Value| convert(v, &ts(true), &ts(true), UnfitPolicy::Truncate).map(|c| c.value);
        assert_eq!(cut(text(input)), Ok(text(instant)), "{input}");
        let cut =
            |v: Value| convert(v, &ts(false), &ts(false), UnfitPolicy::Truncate).map(|c| c.value);
        assert_eq!(cut(text(input)), Ok(text(wall)), "{input}");
    }
    for bad in [
        "2024-02-30 00:00:00",
        "2024-02-29 24:00:00",
        "2024-02-29 12:00:00.",
        "2024-02-29 12:00:00+8",
    ] {
        assert_eq!(
            normalize(text(bad), &ts(true)).unwrap_err().loss,
            Loss::Kind,
            "{bad}"
        );
    }
    assert_eq!(
        normalize(text("10:00:00.000001"), &C::Time { fraction: 6 }),
        Ok(text("10:00:00.000001"))
    );
}

#[test]
fn a_value_of_the_wrong_kind_is_not_held() {
    use super::holds;
    let text = C::Text { unicode: true };
    assert!(holds(&text, &Value::Text("x".into())));
    assert!(holds(&text, &Value::Int(3)));
    assert!(!holds(&text, &Value::Bytes(vec![0, 255, 16])));
    assert!(holds(&C::Blob, &Value::Bytes(vec![0])));
    assert!(!holds(&C::Int64, &Value::Float(1.5)));
    assert!(!holds(&C::Date, &Value::Int(20240101)));
    assert!(holds(&C::Uuid, &Value::Bytes(vec![7; 16])));
    assert!(!holds(&C::Uuid, &Value::Bytes(vec![7; 3])));
    assert!(holds(&C::Bool, &Value::Int(1)));
    assert!(holds(&C::Date, &Value::Null));
}
