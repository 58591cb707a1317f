//! Checks that a plot file is real: a PNG that decodes to a picture that is not blank,
//! an SVG that is well-formed XML with an `<svg>` root and drawn content.

use std::path::Path;

/// Decode the PNG at `path`; assert its signature, a size of at least 200 × 150 pixels
/// and a picture that is not one flat colour (variance of the grey level > 50). Returns
/// (width, height).
pub fn assert_png(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: not a PNG signature",
        path.display()
    );
    let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    let (w, h) = (info.width, info.height);
    assert!(
        w >= 200 && h >= 150,
        "{}: {w}x{h} too small",
        path.display()
    );
    let channels = info.color_type.samples();
    let grey: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| p.iter().take(3).map(|&v| v as f64).sum::<f64>() / 3.0f64.min(channels as f64))
        .collect();
    let mean = grey.iter().sum::<f64>() / grey.len() as f64;
    let var = grey.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / grey.len() as f64;
    assert!(
        var > 50.0,
        "{}: blank picture (grey variance {var})",
        path.display()
    );
    (w, h)
}

/// Parse the SVG at `path` as XML with a stack of open elements: every tag closed in
/// order, one `<svg>` root, attributes quoted; assert at least `min_elements` drawing
/// elements (path, polyline, polygon, circle, rect, line, text). Returns the text.
pub fn assert_svg(path: &Path, min_elements: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut drawn = 0;
    let mut rest = text.as_str();
    while let Some(start) = rest.find('<') {
        let end = rest[start..]
            .find('>')
            .unwrap_or_else(|| panic!("{}: unterminated tag", path.display()))
            + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("{}: stray </{name}>", path.display()));
            assert_eq!(
                open,
                name.trim(),
                "{}: </{name}> closes <{open}>",
                path.display()
            );
            continue;
        }
        let self_closing = tag.ends_with('/');
        let name: String = tag
            .trim_end_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        assert_eq!(
            tag.matches('"').count() % 2,
            0,
            "{}: unbalanced quotes in <{tag}>",
            path.display()
        );
        if stack.is_empty() {
            assert_eq!(name, "svg", "{}: root element <{name}>", path.display());
            roots += 1;
        }
        if [
            "path", "polyline", "polygon", "circle", "rect", "line", "text",
        ]
        .contains(&name.as_str())
        {
            drawn += 1;
        }
        if !self_closing {
            stack.push(name);
        }
    }
    assert!(stack.is_empty(), "{}: unclosed {stack:?}", path.display());
    assert_eq!(roots, 1, "{}: {roots} root elements", path.display());
    assert!(
        drawn >= min_elements,
        "{}: only {drawn} drawing elements",
        path.display()
    );
    text
}
