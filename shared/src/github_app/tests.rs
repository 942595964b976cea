use super::*;
use aws_lc_rs::rsa::{KeyPair as RsaPair, KeySize};
use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};

/// A fresh key as GitHub would hand it out (PKCS#1 PEM) and in PKCS#8, plus its public
/// key (PKCS#1 DER).
fn fresh_key() -> (String, String, Vec<u8>) {
    let pair = RsaPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).unwrap();
    let pkcs8 = pkcs8.as_ref().to_vec();
    let public = pair.public_key().as_ref().to_vec();
    let pkcs1 = pkcs1_of(&pkcs8);
    (pem("RSA PRIVATE KEY", &pkcs1), pem("PRIVATE KEY", &pkcs8), public)
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

/// One DER element at `at`: (content start, content end).
fn element(der: &[u8], at: usize) -> (usize, usize) {
    let len0 = der[at + 1] as usize;
    if len0 < 0x80 {
        return (at + 2, at + 2 + len0);
    }
    let n = len0 & 0x7f;
    let len = der[at + 2..at + 2 + n]
        .iter()
        .fold(0usize, |a, b| (a << 8) | *b as usize);
    (at + 2 + n, at + 2 + n + len)
}

/// PKCS#8 PrivateKeyInfo → its RSAPrivateKey (the OCTET STRING after version and algorithm).
fn pkcs1_of(pkcs8: &[u8]) -> Vec<u8> {
    let (body, _) = element(pkcs8, 0);
    let (_, version_end) = element(pkcs8, body);
    let (_, algorithm_end) = element(pkcs8, version_end);
    assert_eq!(pkcs8[algorithm_end], 0x04, "an OCTET STRING");
    let (start, end) = element(pkcs8, algorithm_end);
    pkcs8[start..end].to_vec()
}

fn claims_of(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn the_jwt_is_rs256_signed_by_the_key_with_github_s_claims() {
    let (pkcs1, pkcs8, public) = fresh_key();
    for pem in [&pkcs1, &pkcs8] {
        let key = AppKey::from_pem(pem).unwrap();
        let jwt = key.jwt(424_242, 1_700_000_000).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let claims = claims_of(&jwt);
        assert_eq!(claims["iss"], "424242");
        assert_eq!(claims["iat"], 1_700_000_000 - 60);
        assert_eq!(claims["exp"], 1_700_000_000 - 60 + 540);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let verifier = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &public);
        let signed = format!("{}.{}", parts[0], parts[1]);
        verifier.verify(signed.as_bytes(), &signature).unwrap();
        // Another message does not verify: the signature is over exactly this input.
        assert!(verifier.verify(b"x.y", &signature).is_err());
    }
}

#[test]
fn both_pem_forms_give_the_same_fingerprint_and_debug_shows_nothing_else() {
    let (pkcs1, pkcs8, _) = fresh_key();
    let a = AppKey::from_pem(&pkcs1).unwrap();
    let b = AppKey::from_pem(&format!("pasted with text around it\n{pkcs8}\n")).unwrap();
    assert_eq!(a.fingerprint(), b.fingerprint());
    assert!(a.fingerprint().starts_with("SHA256:") && a.fingerprint().len() == 7 + 44);
    let shown = format!("{a:?}");
    assert_eq!(shown, format!("AppKey({})", a.fingerprint()));
    let body_line = pkcs1.lines().nth(1).unwrap();
    assert!(!shown.contains(body_line));
}

#[test]
fn anything_but_an_rsa_key_of_2048_to_4096_bits_is_refused() {
    assert_eq!(AppKey::from_pem("").unwrap_err(), KeyError::NotPem);
    assert_eq!(AppKey::from_pem("ghp_notakey").unwrap_err(), KeyError::NotPem);
    assert_eq!(
        AppKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----").unwrap_err(),
        KeyError::NotPem
    );
    assert_eq!(
        AppKey::from_pem("-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----").unwrap_err(),
        KeyError::NotPem
    );
    assert_eq!(
        AppKey::from_pem("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----").unwrap_err(),
        KeyError::NotRsa
    );
    // An EC key in PKCS#8 is not an app key.
    let ec =
        aws_lc_rs::signature::EcdsaKeyPair::generate(&aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING).unwrap();
    let ec = ec.to_pkcs8v1().unwrap();
    assert_eq!(
        AppKey::from_pem(&pem("PRIVATE KEY", ec.as_ref())).unwrap_err(),
        KeyError::NotRsa
    );
    // 3072 bits is within GitHub's range.
    let other = RsaPair::generate(KeySize::Rsa3072).unwrap();
    let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&other).unwrap();
    assert!(AppKey::from_pem(&pem("PRIVATE KEY", der.as_ref())).is_ok());
    let huge = "A".repeat(MAX_PEM_BYTES);
    let huge = format!("-----BEGIN RSA PRIVATE KEY-----\n{huge}\n-----END RSA PRIVATE KEY-----");
    assert_eq!(AppKey::from_pem(&huge).unwrap_err(), KeyError::NotPem);
}

#[test]
fn missing_permissions_are_named() {
    let mut installation: Installation = serde_json::from_value(serde_json::json!({
        "id": 1, "app_id": 2, "app_slug": "agnus-acme", "account": {"login": "acme", "type": "Organization"},
        "repository_selection": "selected",
        "permissions": {"contents": "read", "pull_requests": "read", "metadata": "read"}
    }))
    .unwrap();
    assert_eq!(
        installation.missing_permissions(),
        vec!["pull_requests: write".to_owned()]
    );
    installation.permissions.insert("pull_requests".into(), "write".into());
    installation.permissions.insert("contents".into(), "write".into());
    assert!(installation.missing_permissions().is_empty());
    installation.permissions.clear();
    assert_eq!(installation.missing_permissions().len(), 2);
    assert_eq!(installation.bot_login(), "agnus-acme[bot]");
}
