//! A model as C source for TensorFlow Lite Micro firmware: `model.h` declares the array,
//! `model.cc` defines it, and `labels.txt` lists the class names in output order.
//!
//! The convention is TFLM's examples' (`xxd -i` with the examples' names): a 16-byte aligned
//! `const unsigned char g_model[]` written as twelve `0x..` bytes per line, and
//! `const unsigned int g_model_len`. The alignment matters: TFLM reads weights in place, and
//! the `.tflite` writer aligns its buffers relative to the start of the array.

/// Bytes per line of the array, as `xxd -i` writes them.
const BYTES_PER_LINE: usize = 12;

/// `("model.h", …)`, `("model.cc", …)` and `("labels.txt", …)` for `model` (the `.tflite`
/// bytes). `array_name` (e.g. `g_model`) names the array and, with `_len`, its length; characters
/// a C identifier cannot hold become `_`.
pub fn c_array_files(model: &[u8], array_name: &str, labels: &[String]) -> Vec<(String, String)> {
    let name = c_identifier(array_name);
    let guard = format!("{}_MODEL_H_", name.to_ascii_uppercase());
    let header = format!(
        "// The model as a C array for TensorFlow Lite Micro, made by TinyLab.\n\
         #ifndef {guard}\n\
         #define {guard}\n\
         \n\
         extern const unsigned char {name}[];\n\
         extern const unsigned int {name}_len;\n\
         \n\
         #endif  // {guard}\n"
    );
    let mut source = format!(
        "// The model as a C array for TensorFlow Lite Micro, made by TinyLab ({} bytes).\n\
         #include \"model.h\"\n\
         \n\
         // Aligned to 16 bytes so that TFLM can read the weights in place.\n\
         alignas(16) const unsigned char {name}[] = {{\n",
        model.len()
    );
    for line in model.chunks(BYTES_PER_LINE) {
        let bytes: Vec<String> = line.iter().map(|b| format!("0x{b:02x}")).collect();
        source.push_str("    ");
        source.push_str(&bytes.join(", "));
        source.push_str(",\n");
    }
    source.push_str("};\n");
    source.push_str(&format!(
        "const unsigned int {name}_len = {};\n",
        model.len()
    ));
    let mut labels_text = String::new();
    for label in labels {
        // One label per line: a line break inside a label would shift every later class.
        labels_text.push_str(&label.replace(['\n', '\r'], " "));
        labels_text.push('\n');
    }
    vec![
        ("model.h".to_owned(), header),
        ("model.cc".to_owned(), source),
        ("labels.txt".to_owned(), labels_text),
    ]
}

/// `name` as a C identifier: other characters become `_`, a leading digit gets a `_` before
/// it, and an empty name is `g_model`.
fn c_identifier(name: &str) -> String {
    let mut identifier: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if identifier.is_empty() {
        return "g_model".to_owned();
    }
    if identifier.starts_with(|c: char| c.is_ascii_digit()) {
        identifier.insert(0, '_');
    }
    identifier
}
