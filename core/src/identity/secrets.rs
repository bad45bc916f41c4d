//! Random secrets and their digests. Secrets (setup tokens, access tokens, session ids) are
//! stored only as SHA-256 digests: they carry 128 bits or more of entropy, so a fast digest is
//! enough (passwords, which do not, get Argon2id in [`super::accounts`]).

use subtle::ConstantTimeEq;

/// `bytes` random bytes from the operating system, as lowercase base32 without padding.
pub fn random_base32(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // The OS generator failing is not recoverable: no secret can be made without it.
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("the operating system's random number generator failed: {e}");
    }
    data_encoding::BASE32_NOPAD.encode(&buf).to_ascii_lowercase()
}

/// `N` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("the operating system's random number generator failed: {e}");
    }
    buf
}

/// 16 random bytes as 32 hex digits (ids that appear in keys).
pub fn random_hex_id() -> String {
    let mut buf = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut buf) {
        panic!("the operating system's random number generator failed: {e}");
    }
    data_encoding::HEXLOWER.encode(&buf)
}

/// SHA-256 of `secret`, as 64 hex digits: what is stored and looked up instead of the secret.
pub fn digest(secret: &str) -> String {
    use sha2::Digest;
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time that depends only on their lengths.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_digests_stable() {
        let (a, b) = (random_base32(20), random_base32(20));
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(same_secret("x1", "x1") && !same_secret("x1", "x2") && !same_secret("x", "xx"));
        assert_eq!(random_hex_id().len(), 32);
    }
}
