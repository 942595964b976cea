use std::io::Write;

use super::*;

fn caps() -> Caps {
    Caps {
        archive_bytes: 1 << 20,
        unpacked_bytes: 4 << 20,
        files: 100,
        file_bytes: 64 << 10,
        source_bytes: 1 << 20,
    }
}

/// A raw tar header whose name is written as given (the `tar` crate's builder refuses
/// `..` and absolute names: an attacker's archive does not).
fn raw_header(name: &str, size: u64, kind: tar::EntryType, link: Option<&str>) -> tar::Header {
    let mut h = tar::Header::new_old();
    let bytes = name.as_bytes();
    h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
    if let Some(link) = link {
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    }
    h.set_size(size);
    h.set_entry_type(kind);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

fn targz(entries: &[(&str, &[u8])], extra: Option<tar::Header>) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (name, data) in entries {
        let mut h = raw_header(name, data.len() as u64, tar::EntryType::Regular, None);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    if let Some(h) = extra {
        b.append(&h, std::io::empty()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

/// The files a walk handed on, with their bytes.
type Seen = Vec<(String, Vec<u8>)>;

fn collect(format: Format, bytes: &[u8], caps: &Caps) -> Result<(Tally, Seen), ArchiveError> {
    let mut seen = Vec::new();
    let tally = walk(
        format,
        bytes,
        caps,
        |path, _| !path.ends_with(".png"),
        |path, bytes| {
            seen.push((path.to_owned(), bytes));
            Ok(())
        },
    )?;
    Ok((tally, seen))
}

#[test]
fn a_tarball_is_read_under_its_top_directory_and_filtered() {
    let a = targz(
        &[
            ("octo-repo-abc/src/a.py", b"def f():\n    pass\n"),
            ("octo-repo-abc/logo.png", b"\x89PNG"),
            ("octo-repo-abc/big.py", &[b'x'; 70 << 10]),
        ],
        None,
    );
    let (tally, seen) = collect(Format::TarGz, &a, &caps()).unwrap();
    assert_eq!(seen, vec![("src/a.py".to_owned(), b"def f():\n    pass\n".to_vec())]);
    assert_eq!(tally.files, 1);
    assert_eq!(tally.skipped, 2, "the filtered file and the one over the per-file cap");
}

#[test]
fn a_path_with_dot_dot_or_an_absolute_path_fails_the_walk() {
    for name in ["top/../../etc/passwd", "/etc/passwd", "top/a/../../../x"] {
        let a = targz(&[(name, b"x")], None);
        let err = collect(Format::TarGz, &a, &caps()).unwrap_err();
        assert!(matches!(err, ArchiveError::Unsafe(_)), "{name}: {err:?}");
    }
}

#[test]
fn links_inside_are_skipped_and_links_out_fail() {
    let inside = raw_header("top/docs/link", 0, tar::EntryType::Symlink, Some("../src/a.py"));
    let a = targz(&[("top/src/a.py", b"x = 1\n")], Some(inside));
    let (tally, seen) = collect(Format::TarGz, &a, &caps()).unwrap();
    assert_eq!((seen.len(), tally.skipped), (1, 1));
    for target in ["/etc/passwd", "../../../etc/passwd", "../.."] {
        let out = raw_header("top/link", 0, tar::EntryType::Symlink, Some(target));
        let a = targz(&[], Some(out));
        let err = collect(Format::TarGz, &a, &caps()).unwrap_err();
        assert!(matches!(err, ArchiveError::Unsafe(_)), "{target}: {err:?}");
    }
}

#[test]
fn a_truncated_or_corrupt_archive_is_invalid() {
    let a = targz(&[("top/a.py", &[b'a'; 4000])], None);
    for cut in [10, a.len() / 2, a.len() - 5] {
        let err = collect(Format::TarGz, &a[..cut], &caps()).map(|(t, _)| t);
        assert!(matches!(err, Err(ArchiveError::Invalid(_))), "cut at {cut}: {err:?}");
    }
    let err = collect(Format::TarGz, b"not a gzip stream at all", &caps()).unwrap_err();
    assert!(matches!(err, ArchiveError::Invalid(_)), "{err:?}");
}

#[test]
fn a_header_claiming_ten_gigabytes_fails_without_reading_them() {
    let mut h = raw_header("top/huge.py", 0, tar::EntryType::Regular, None);
    h.set_size(10 << 30);
    h.set_cksum();
    let mut raw = Vec::new();
    raw.extend_from_slice(h.as_bytes());
    raw.extend_from_slice(&[b'a'; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    let a = gz.finish().unwrap();
    let err = collect(Format::TarGz, &a, &caps()).unwrap_err();
    assert!(matches!(err, ArchiveError::Invalid(_)), "{err:?}");
}

#[test]
fn the_caps_name_themselves() {
    let a = targz(&[("t/a.py", b"a"), ("t/b.py", b"b"), ("t/c.py", b"c")], None);
    let err = collect(Format::TarGz, &a, &Caps { files: 2, ..caps() }).unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::TooLarge {
                cap: "AGNUS_INDEX_MAX_FILES",
                limit: 2
            }
        ),
        "{err:?}"
    );
    let err = collect(
        Format::TarGz,
        &a,
        &Caps {
            archive_bytes: 20,
            ..caps()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::TooLarge {
                cap: "AGNUS_INDEX_MAX_ARCHIVE_BYTES",
                ..
            }
        ),
        "{err:?}"
    );
    let err = collect(
        Format::TarGz,
        &a,
        &Caps {
            source_bytes: 2,
            ..caps()
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::TooLarge {
                cap: "AGNUS_INDEX_MAX_SOURCE_BYTES",
                ..
            }
        ),
        "{err:?}"
    );
    // A gzip bomb: little compressed, much unpacked.
    let bomb = targz(&[("t/zeros.py", &vec![0u8; 3 << 20])], None);
    assert!(bomb.len() < 64 << 10);
    let err = collect(
        Format::TarGz,
        &bomb,
        &Caps {
            unpacked_bytes: 1 << 20,
            ..caps()
        },
    )
    .unwrap_err();
    assert!(matches!(err, ArchiveError::TooLarge { .. }), "{err:?}");
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_zip_is_read_as_it_streams() {
    let z = zip_of(&[
        ("src/a.cs", b"class A {}\n"),
        ("img/logo.png", b"\x89PNG"),
        ("b.go", b"package b\n"),
    ]);
    let (tally, seen) = collect(Format::Zip, &z, &caps()).unwrap();
    let paths: Vec<_> = seen.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, ["src/a.cs", "b.go"]);
    assert_eq!(tally.skipped, 1);
    let bad = zip_of(&[("../evil.cs", b"x")]);
    assert!(matches!(
        collect(Format::Zip, &bad, &caps()).unwrap_err(),
        ArchiveError::Unsafe(_)
    ));
    let cut = &z[..z.len() / 2];
    assert!(collect(Format::Zip, cut, &caps()).is_err());
}

#[test]
fn repo_paths_are_normalised() {
    assert_eq!(repo_path("top/a//b/./c.py", true).unwrap().as_deref(), Some("a/b/c.py"));
    assert_eq!(repo_path("top/", true).unwrap(), None);
    assert_eq!(repo_path("a\\b.cs", false).unwrap().as_deref(), Some("a/b.cs"));
    assert!(repo_path("C:/x", false).is_err());
    assert!(link_stays_inside("a/b/link", "../c"));
    assert!(!link_stays_inside("link", "../c"));
}
