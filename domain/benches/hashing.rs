//! What a password costs: Argon2id hash and verify with the default parameters, the legacy
//! PBKDF2-HMAC-SHA1 verify, and a token's generation and hashing.
//!
//! `cargo bench -p lambdauth-domain --bench hashing`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lambdauth_domain::random::OsRandomness;
use lambdauth_domain::{
    Email, HashingParams, NewPassword, PasswordAttempt, PasswordHasher, PasswordPolicy,
    StoredPassword, Token,
};

fn hashing(c: &mut Criterion) {
    let hasher = PasswordHasher::new(HashingParams::default(), &mut OsRandomness).unwrap();
    let email = Email::parse("bench@example.com").unwrap();
    let password = NewPassword::new(
        "correct horse battery staple",
        &email,
        &PasswordPolicy::default(),
    )
    .unwrap();
    let attempt = PasswordAttempt::new("correct horse battery staple").unwrap();
    let stored = hasher.hash(&password, &mut OsRandomness).unwrap();

    let mut group = c.benchmark_group("password");
    group.sample_size(20);
    group.bench_function("argon2id_hash_default", |b| {
        b.iter(|| {
            hasher
                .hash(black_box(&password), &mut OsRandomness)
                .unwrap()
        });
    });
    group.bench_function("argon2id_verify_default", |b| {
        b.iter(|| {
            hasher
                .verify(black_box(&attempt), black_box(&stored))
                .unwrap()
        });
    });
    // alice@example.com from the legacy fixture: 4096 iterations, 128-byte key.
    let legacy = StoredPassword::from_legacy(
        "+6x3SiTuUCgbgRTQRnVji4iyMY0b2vvtu7DWsmJkb0JYUDJ1ECeCd+1Md1mMgRDJT3Qz66EngUnRxJTgsJ8/UOAJcBHjfCe3ud719cN+e1nceYmSCKe4cK29Ssa43IHVP1NyBfM+Sa3nkcjI3lx6pghgwn5PXfo+zNTn3x52ynA=",
        "N/zAIAULUSV9vFrJJ/vYVf2iG785A34ZL3SPbho9fOPTD/DQ4uIyqB7sav9Z6IjvJy2pQMQqCrvbd3lhOF9xfYPNdRmOexvjXGkCMEXnfgUIkfXD3RII4Yagkrs8LIPnM/+uBHGyKIzIrP/URGlKr7p6+fXihASXFZnLbgjnOdE=",
    )
    .unwrap();
    assert!(hasher.verify(&attempt, &legacy).unwrap().matched());
    group.bench_function("legacy_pbkdf2_sha1_verify", |b| {
        b.iter(|| {
            hasher
                .verify(black_box(&attempt), black_box(&legacy))
                .unwrap()
        });
    });
    group.bench_function("unknown_user_dummy_verify", |b| {
        b.iter(|| hasher.verify_unknown_user(black_box(&attempt)).unwrap());
    });
    group.finish();

    c.bench_function("token_generate_and_hash", |b| {
        b.iter(|| Token::generate(&mut OsRandomness).unwrap().hash());
    });
}

criterion_group!(benches, hashing);
criterion_main!(benches);
