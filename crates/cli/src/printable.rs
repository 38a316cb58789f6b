//! Receipts a person can keep: a QR code as PNG, and a one-page PDF with
//! the statement, the QR code and the text form.
//!
//! Both writers are small and hand-written on purpose: a PNG of black and
//! white modules needs no compression library (stored deflate blocks of a
//! 1-bit image stay under 100 KB), and a PDF of text lines and filled
//! squares needs no PDF library. The QR code itself comes from
//! `qrcodegen`, Project Nayuki's reference encoder.
//!
//! The QR code holds the receipt's binary form in byte mode: at 2,953
//! bytes (version 40, lowest error correction) it takes a transfer receipt
//! of a few validators. Scanners that hand back text may mangle binary
//! bytes; the PDF therefore prints the base64url text too.

use anyhow::{Context, Result, bail};
use qrcodegen::{QrCode, QrCodeEcc};
use std::fmt::Write as _;

/// Pixels per QR module in the PNG.
const PNG_MODULE_PX: usize = 4;
/// Modules of white border around the code (the standard's quiet zone).
const QUIET_ZONE_MODULES: usize = 4;
/// Largest stored deflate block, in bytes.
const DEFLATE_STORED_BLOCK_MAX: usize = 65_535;
/// A4 page, in PDF points.
const PAGE_WIDTH_PT: f32 = 595.0;
/// A4 page, in PDF points.
const PAGE_HEIGHT_PT: f32 = 842.0;
/// Page margin, in points.
const MARGIN_PT: f32 = 48.0;
/// Characters per line of the statement (Helvetica 10 pt).
const STATEMENT_LINE_CHARS: usize = 92;
/// Characters per line of the text form (Courier 6.5 pt).
const TEXT_LINE_CHARS: usize = 118;
/// Most PDF pages, a bound on what a huge receipt can produce.
const PDF_PAGES_MAX: usize = 64;

/// The QR code of `bytes`, with the highest error correction that fits the
/// smallest version.
pub fn qr_code(bytes: &[u8]) -> Result<QrCode> {
    QrCode::encode_binary(bytes, QrCodeEcc::Low).map_err(|_| {
        anyhow::anyhow!(
            "the receipt is {} bytes, more than one QR code holds (2,953); use its text or PDF form",
            bytes.len()
        )
    })
}

/// `code` as a 1-bit grayscale PNG.
pub fn png(code: &QrCode) -> Vec<u8> {
    let modules = code.size() as usize + 2 * QUIET_ZONE_MODULES;
    let side = modules * PNG_MODULE_PX;
    let row_bytes = side.div_ceil(8);
    // Each scanline: filter byte 0, then pixels, 1 = white.
    let mut raw = Vec::with_capacity(side * (row_bytes + 1));
    for y in 0..side {
        raw.push(0);
        let module_y = (y / PNG_MODULE_PX) as i32 - QUIET_ZONE_MODULES as i32;
        let mut row = vec![0u8; row_bytes];
        for x in 0..side {
            let module_x = (x / PNG_MODULE_PX) as i32 - QUIET_ZONE_MODULES as i32;
            if !code.get_module(module_x, module_y) {
                row[x / 8] |= 0x80 >> (x % 8);
            }
        }
        raw.extend_from_slice(&row);
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&(side as u32).to_be_bytes());
    header.extend_from_slice(&(side as u32).to_be_bytes());
    // Bit depth 1, grayscale, deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[1, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(DEFLATE_STORED_BLOCK_MAX).collect();
    for (index, block) in blocks.iter().enumerate() {
        out.push(u8::from(index + 1 == blocks.len()));
        let length = block.len() as u16;
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&(!length).to_le_bytes());
        out.extend_from_slice(block);
    }
    if blocks.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// What the PDF shows besides the QR code.
pub struct Printout<'a> {
    /// Heading.
    pub title: &'a str,
    /// The claim in plain words.
    pub statement: &'a str,
    /// Label and value lines (chain, block, size...).
    pub details: &'a [(String, String)],
    /// The base64url text form.
    pub text: &'a str,
}

/// A PDF 1.4 document of `printout`, with `code` drawn as vector squares.
pub fn pdf(printout: &Printout<'_>, code: Option<&QrCode>) -> Result<Vec<u8>> {
    let mut pages: Vec<String> = Vec::new();
    let mut page = String::new();
    let mut y = PAGE_HEIGHT_PT - MARGIN_PT;
    fn line(page: &mut String, y: &mut f32, font: &str, size: f32, text: &str) {
        let _ = writeln!(
            page,
            "BT /{font} {size} Tf {MARGIN_PT} {y:.1} Td ({}) Tj ET",
            pdf_escape(text)
        );
        *y -= size * 1.35;
    }
    line(&mut page, &mut y, "F1", 16.0, printout.title);
    y -= 6.0;
    for text in wrap(printout.statement, STATEMENT_LINE_CHARS) {
        line(&mut page, &mut y, "F1", 10.0, &text);
    }
    y -= 6.0;
    for (label, value) in printout.details {
        line(&mut page, &mut y, "F2", 8.0, &format!("{label:<14}{value}"));
    }
    if let Some(code) = code {
        y -= 10.0;
        let size = code.size();
        let side_pt = (PAGE_WIDTH_PT - 2.0 * MARGIN_PT).min(y - MARGIN_PT - 80.0);
        if side_pt < 72.0 {
            bail!("the statement leaves no room for the QR code on the page");
        }
        let module_pt = side_pt / size as f32;
        let top = y;
        let _ = writeln!(page, "0 g");
        for module_y in 0..size {
            for module_x in 0..size {
                if code.get_module(module_x, module_y) {
                    let _ = writeln!(
                        page,
                        "{:.2} {:.2} {module_pt:.3} {module_pt:.3} re f",
                        MARGIN_PT + module_x as f32 * module_pt,
                        top - (module_y + 1) as f32 * module_pt
                    );
                }
            }
        }
        y = top - side_pt - 18.0;
    }
    line(
        &mut page,
        &mut y,
        "F1",
        9.0,
        "The receipt as text (base64url):",
    );
    for text in wrap(printout.text, TEXT_LINE_CHARS) {
        if y < MARGIN_PT {
            pages.push(std::mem::take(&mut page));
            y = PAGE_HEIGHT_PT - MARGIN_PT;
            if pages.len() >= PDF_PAGES_MAX {
                bail!("the receipt needs more than {PDF_PAGES_MAX} pages");
            }
        }
        line(&mut page, &mut y, "F2", 6.5, &text);
    }
    pages.push(page);
    Ok(pdf_document(&pages))
}

/// Objects: 1 catalog, 2 page tree, 3 Helvetica, 4 Courier, then a page
/// and its content stream per page.
fn pdf_document(pages: &[String]) -> Vec<u8> {
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        String::new(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    ];
    let mut kids = Vec::new();
    for content in pages {
        let page_number = objects.len() + 1;
        kids.push(format!("{page_number} 0 R"));
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH_PT} {PAGE_HEIGHT_PT}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
            page_number + 1
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    );
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

/// Escapes PDF string delimiters; anything outside printable ASCII
/// becomes `?` (the standard fonts' encoding differs from UTF-8).
fn pdf_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// Splits `text` into lines of at most `width` characters, at spaces where
/// possible (the text form has none and is cut anywhere).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        while word.chars().count() > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            let rest: String = word.chars().skip(width).collect();
            lines.push(word.chars().take(width).collect());
            word = rest;
        }
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Writes `bytes` to `path`, naming the path in the error.
pub fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_well_formed() {
        let code = qr_code(b"CLRC\x01 a receipt").expect("fits");
        let png = png(&code);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Walk the chunks and check every CRC.
        let mut at = 8;
        let mut kinds = Vec::new();
        while at < png.len() {
            let length = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let kind = &png[at + 4..at + 8];
            let data = &png[at + 8..at + 8 + length];
            let crc =
                u32::from_be_bytes(png[at + 8 + length..at + 12 + length].try_into().unwrap());
            let mut hasher = crc32fast::Hasher::new();
            hasher.update(kind);
            hasher.update(data);
            assert_eq!(hasher.finalize(), crc);
            kinds.push(String::from_utf8(kind.to_vec()).unwrap());
            at += 12 + length;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
    }

    #[test]
    fn stored_zlib_round_trips_its_length_fields() {
        let data: Vec<u8> = (0..150_000u32).map(|i| i as u8).collect();
        let stream = zlib_stored(&data);
        assert_eq!(stream.len(), 2 + 3 * 5 + data.len() + 4);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn pdf_cross_references_point_at_their_objects() {
        let details = [("Chain".to_owned(), "cityledger-dev".to_owned())];
        let printout = Printout {
            title: "CityLedger receipt",
            statement: "Account cl1abc held 12.50 CITY (after block 7).",
            details: &details,
            text: &"A".repeat(5000),
        };
        let code = qr_code(&[7u8; 1500]).expect("fits");
        let document = pdf(&printout, Some(&code)).expect("pdf");
        let text = String::from_utf8_lossy(&document);
        assert!(text.starts_with("%PDF-1.4"));
        assert!(text.ends_with("%%EOF\n"));
        // Offsets are of bytes: read them from the bytes, not the lossy text.
        let find = |needle: &[u8]| {
            document
                .windows(needle.len())
                .rposition(|window| window == needle)
                .expect("present")
        };
        let tail = std::str::from_utf8(&document[find(b"startxref\n")..]).expect("ASCII tail");
        let xref_at: usize = tail
            .lines()
            .nth(1)
            .and_then(|l| l.parse().ok())
            .expect("offset");
        let table = std::str::from_utf8(&document[xref_at..]).expect("ASCII table");
        assert!(table.starts_with("xref"));
        let entries: Vec<&str> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .collect();
        assert!(
            entries.len() >= 6,
            "catalog, pages, two fonts, a page and its content"
        );
        for (index, entry) in entries.iter().enumerate() {
            let offset: usize = entry[..10].parse().expect("offset");
            assert!(
                document[offset..].starts_with(format!("{} 0 obj", index + 1).as_bytes()),
                "object {}",
                index + 1
            );
        }
        assert!(text.contains("held 12.50 CITY \\(after block 7\\)."));
    }

    #[test]
    fn wrapping_keeps_every_character() {
        let text = "a receipt of a transfer of 12.50 CITY from cl1aaaaaaaaaaaaaaaaaaaa to someone";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|line| line.chars().count() <= 20));
        assert_eq!(lines.join(" ").replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn too_large_for_one_qr_code() {
        assert!(qr_code(&[0u8; 3000]).is_err());
    }
}
