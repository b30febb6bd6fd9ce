//! `hebb lsp` driven over stdio with JSON-RPC, as an editor drives it:
//! initialize, open a file with three mistakes (three diagnostics with the
//! codes and positions `hebb check` reports), fix one by an edit (two),
//! hover on a param (its declaration and unit), go to the definition of a
//! type in an imported file, complete after a number (units), list the
//! document's symbols, shut down.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hebb"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("hebb lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length")];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                if tx.send(serde_json::from_slice(&body).expect("JSON")).is_err() {
                    return;
                }
            }
        });
        Client { child, stdin, messages, next_id: 1 }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    /// The next message that satisfies `want` (others are skipped); fails
    /// after 20 s instead of hanging.
    fn wait(&self, want: impl Fn(&Value) -> bool) -> Value {
        loop {
            let m = self.messages.recv_timeout(Duration::from_secs(20)).expect("a message from hebb lsp within 20 s");
            if want(&m) {
                return m;
            }
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let response = self.wait(|m| m["id"] == id);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn diagnostics(&self) -> Vec<Value> {
        let m = self.wait(|m| m["method"] == "textDocument/publishDiagnostics");
        m["params"]["diagnostics"].as_array().expect("diagnostics").clone()
    }
}

const TYPES: &str = r#"neuron Cell {
    param tau = 20 ms
    state v = -70 mV
    state g : 1 = 0
    dv/dt = (-70 mV - v + g * (0 mV - v)) / tau
    dg/dt = -g / 5 ms
    spike when v > -50 mV
    reset { v = -70 mV }
}
"#;

/// Three mistakes: a time where a voltage belongs, an unknown name in a
/// reset, a misspelt unit.
const BROKEN: &str = r#"import "types.hebb"

neuron Other {
    param tau_m = 20 ms
    param v_th = 10 ms
    state v = -70 mV
    dv/dt = (-70 mV - v) / tau_m
    spike when v > v_th
    reset { v = v_rest }
}

network net {
    population input = 20 poisson { rate = 5 Hz }
    population cells = 10 Cell
    population others = 5 Other
    connect input -> cells with Static(target = g) { p = 0.5; w = 0.1 }
}

experiment { network = net; duration = 1 sec
    variant slow { Cell.tau = 30 ms }
}
"#;

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hebb-lsp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `hebb check`'s codes and primary positions (1-based line and column),
/// read from its rendered diagnostics.
fn cli_diagnostics(file: &Path) -> Vec<(String, u32, u32)> {
    let o = Command::new(env!("CARGO_BIN_EXE_hebb")).arg("check").arg(file).env("NO_COLOR", "1").output().unwrap();
    let text = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    let mut out = Vec::new();
    let mut code = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("hebb::") {
            code = Some(t.to_string());
        } else if let (Some(c), Some(at)) = (&code, t.split("─[").nth(1)) {
            let mut parts = at.trim_end_matches(']').rsplitn(3, ':');
            let col: u32 = parts.next().unwrap().parse().unwrap();
            let line: u32 = parts.next().unwrap().parse().unwrap();
            out.push((c.clone(), line, col));
            code = None;
        }
    }
    out
}

fn lsp_positions(diags: &[Value]) -> Vec<(String, u32, u32)> {
    let mut v: Vec<(String, u32, u32)> = diags
        .iter()
        .map(|d| {
            let start = &d["range"]["start"];
            let (l, c) = (start["line"].as_u64().unwrap() as u32, start["character"].as_u64().unwrap() as u32);
            (d["code"].as_str().unwrap().to_string(), l + 1, c + 1)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn an_editor_session_over_stdio() {
    let dir = temp_dir();
    std::fs::write(dir.join("types.hebb"), TYPES).unwrap();
    let main = dir.join("main.hebb");
    std::fs::write(&main, BROKEN).unwrap();
    let uri = format!("file://{}", main.display());

    let mut client = Client::start();
    let init = client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    let caps = &init["capabilities"];
    assert_eq!(caps["hoverProvider"], true, "{init}");
    assert_eq!(caps["definitionProvider"], true, "{init}");
    assert_eq!(caps["documentSymbolProvider"], true, "{init}");
    client.notify("initialized", json!({}));

    // Open: the three mistakes, with the CLI's codes and positions.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "hebb", "version": 1, "text": BROKEN } }),
    );
    let diags = client.diagnostics();
    assert_eq!(diags.len(), 3, "{diags:#?}");
    let mut cli = cli_diagnostics(&main);
    cli.sort();
    assert_eq!(lsp_positions(&diags), cli, "LSP vs `hebb check`");
    assert!(diags.iter().all(|d| d["source"] == "hebb" && d["severity"] == 1), "{diags:#?}");
    assert!(diags.iter().any(|d| d["message"].as_str().unwrap().contains("help:")), "help travels: {diags:#?}");

    // Fix the threshold's unit: two remain.
    let fixed = BROKEN.replace("param v_th = 10 ms", "param v_th = -50 mV");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": fixed }] }),
    );
    assert_eq!(client.diagnostics().len(), 2);

    let at = |text: &str, needle: &str, plus: usize| -> Value {
        let offset = text.find(needle).expect("needle") + plus;
        let line = text[..offset].matches('\n').count();
        let col = offset - text[..offset].rfind('\n').map_or(0, |k| k + 1);
        json!({ "line": line, "character": col })
    };
    let doc = json!({ "uri": uri });

    // Hover on the param `tau_m` where it is used: its declaration and unit.
    let hover =
        client.request("textDocument/hover", json!({ "textDocument": doc, "position": at(&fixed, "/ tau_m", 3) }));
    let value = hover["contents"]["value"].as_str().expect("markdown");
    assert!(value.contains("param `tau_m`") && value.contains("20 ms") && value.contains("unit: s"), "{value}");

    // Go to the definition of `Cell`, declared in the imported file.
    let def =
        client.request("textDocument/definition", json!({ "textDocument": doc, "position": at(&fixed, "10 Cell", 4) }));
    assert!(def["uri"].as_str().unwrap().ends_with("types.hebb"), "{def}");
    assert_eq!(def["range"]["start"], json!({ "line": 0, "character": 7 }), "{def}");

    // A variant's `Cell.tau`: the param of the imported type.
    let def = client
        .request("textDocument/definition", json!({ "textDocument": doc, "position": at(&fixed, "Cell.tau", 6) }));
    assert!(def["uri"].as_str().unwrap().ends_with("types.hebb"), "{def}");
    assert_eq!(def["range"]["start"], json!({ "line": 1, "character": 10 }), "{def}");
    let hover =
        client.request("textDocument/hover", json!({ "textDocument": doc, "position": at(&fixed, "Cell.tau", 6) }));
    let value = hover["contents"]["value"].as_str().expect("markdown");
    assert!(value.contains("param `tau` of `Cell`") && value.contains("20 ms"), "{value}");

    // Completion after a number offers units.
    let completion = client
        .request("textDocument/completion", json!({ "textDocument": doc, "position": at(&fixed, "tau_m = 20 ", 11) }));
    let labels: Vec<&str> = completion.as_array().unwrap().iter().map(|c| c["label"].as_str().unwrap()).collect();
    assert!(labels.contains(&"ms") && labels.contains(&"mV") && labels.contains(&"Hz"), "{labels:?}");

    // Document symbols: the items of the file, with their members.
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": doc }));
    let names: Vec<&str> = symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Other", "net", "experiment"], "{symbols}");
    let children = symbols[0]["children"].as_array().unwrap();
    assert!(children.iter().any(|c| c["name"] == "tau_m"), "{symbols}");

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().expect("exits");
    assert!(status.success(), "{status}");
}
