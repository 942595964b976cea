//! Password hashing at the configured (OWASP) parameters, session tokens, API keys.

use std::hint::black_box;

use agnus_shared::crypto::{
    PasswordHasher, PasswordParams, SessionClaims, SessionTokens, api_key_well_formed, generate_api_key, sha256_hex,
};
use agnus_shared::domain::{Password, SessionId, UserId};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench_auth(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let hasher = PasswordHasher::new(PasswordParams::OWASP_MIN);
    let password = Password::parse(secrecy::SecretString::from("correct horse battery staple".to_owned())).unwrap();
    let stored = rt.block_on(hasher.hash(&password)).unwrap();
    let mut group = c.benchmark_group("auth");
    group.sample_size(20);
    group.bench_function("argon2id_hash_m19456_t2_p1", |b| {
        b.iter(|| rt.block_on(hasher.hash(black_box(&password))).unwrap())
    });
    group.bench_function("argon2id_verify_m19456_t2_p1", |b| {
        b.iter(|| {
            rt.block_on(hasher.verify(black_box("correct horse battery staple"), &stored))
                .unwrap()
        })
    });
    group.sample_size(100);
    let tokens = SessionTokens::new(&[7u8; 32]);
    let claims = SessionClaims {
        sub: UserId::new(),
        sid: SessionId::new(),
        ep: 0,
        iat: 1_800_000_000,
        exp: 4_000_000_000,
    };
    let token = tokens.issue(&claims).unwrap();
    group.bench_function("jwt_issue", |b| b.iter(|| tokens.issue(black_box(&claims)).unwrap()));
    group.bench_function("jwt_verify", |b| b.iter(|| tokens.verify(black_box(&token)).unwrap()));
    let key = generate_api_key();
    group.bench_function("api_key_verify_format_and_hash", |b| {
        b.iter(|| {
            assert!(api_key_well_formed(black_box(&key)));
            sha256_hex(key.as_bytes())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_auth);
criterion_main!(benches);
