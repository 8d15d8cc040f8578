//! The size of the release function binary and of its deployment zip (the binary alone, named
//! `bootstrap`, deflated, as the `provided.al2023` runtime wants it). Every function deploys the
//! same zip.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// The one binary every function runs ([`crate::coldstart::FUNCTION_BINARY`]).
pub const FUNCTION_BINARIES: [&str; 1] = [crate::coldstart::FUNCTION_BINARY];

/// One binary's sizes.
#[derive(Debug, Clone)]
pub struct BinarySize {
    /// The function.
    pub name: &'static str,
    /// The binary, in bytes.
    pub binary: u64,
    /// The zip holding it as `bootstrap`, in bytes.
    pub zip: u64,
    /// Whether the binary has no symbol table left.
    pub stripped: bool,
}

/// Measures every binary in `release_dir`.
pub fn measure(release_dir: &Path) -> Result<Vec<BinarySize>> {
    FUNCTION_BINARIES
        .iter()
        .map(|name| {
            let path = release_dir.join(name);
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            Ok(BinarySize {
                name,
                binary: bytes.len() as u64,
                zip: zip_as_bootstrap(&bytes)?.len() as u64,
                stripped: !has_symbol_table(&bytes),
            })
        })
        .collect()
}

/// `binary` zipped as an executable `bootstrap`, deflated at the default level.
pub fn zip_as_bootstrap(binary: &[u8]) -> Result<Vec<u8>> {
    let mut zip = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(binary)?;
    Ok(zip.finish()?.into_inner())
}

/// Whether an ELF file still names a `.symtab` section (stripping removes it).
fn has_symbol_table(elf: &[u8]) -> bool {
    elf.windows(b".symtab\0".len())
        .any(|window| window == b".symtab\0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zip_holds_the_binary_as_bootstrap() {
        let binary = vec![7_u8; 10_000];
        let zipped = zip_as_bootstrap(&binary).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
        let mut file = archive.by_name("bootstrap").unwrap();
        assert_eq!(file.unix_mode().map(|mode| mode & 0o777), Some(0o755));
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut unzipped).unwrap();
        assert_eq!(unzipped, binary);
    }
}
