//! docs/compatibility.md lists exactly the commands in the command table. The command
//! list part of the page is generated from the table; run
//! `SHOAL_BLESS=1 cargo test -p shoal-server --test compat_doc` after adding commands.

use shoal_core::table::{self, CommandSpec, flags};

const BEGIN: &str = "<!-- BEGIN GENERATED COMMAND TABLE -->";
const END: &str = "<!-- END GENERATED COMMAND TABLE -->";

fn row(spec: &CommandSpec, name: &str, out: &mut String) {
    let kind = if spec.parse.is_some() {
        "core"
    } else {
        "server"
    };
    let mut fl: Vec<&str> = flags::NAMES
        .iter()
        .filter(|(b, _)| spec.flags & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if fl.is_empty() {
        fl.push("-");
    }
    out.push_str(&format!(
        "| `{}` | {} | {} | {} | {} |\n",
        name.to_uppercase(),
        spec.group,
        spec.arity,
        fl.join(", "),
        kind
    ));
}

fn generated() -> String {
    let mut specs: Vec<&CommandSpec> = table::all().collect();
    specs.sort_by_key(|s| (s.group, s.name));
    let mut out = String::new();
    out.push_str(BEGIN);
    out.push_str("\n| command | group | arity | flags | executed by |\n|---|---|---|---|---|\n");
    for s in specs {
        row(s, s.name, &mut out);
        for sub in s.subcommands {
            row(sub, &format!("{} {}", s.name, sub.name), &mut out);
        }
    }
    out.push_str(END);
    out
}

#[test]
fn compatibility_page_lists_the_command_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/compatibility.md");
    let page = std::fs::read_to_string(path).expect("docs/compatibility.md");
    let (Some(b), Some(e)) = (page.find(BEGIN), page.find(END)) else {
        panic!("docs/compatibility.md lacks the generated-table markers");
    };
    let current = &page[b..e + END.len()];
    let want = generated();
    if current != want {
        if std::env::var_os("SHOAL_BLESS").is_some() {
            let new = format!("{}{}{}", &page[..b], want, &page[e + END.len()..]);
            std::fs::write(path, new).expect("write docs/compatibility.md");
            return;
        }
        panic!(
            "docs/compatibility.md is out of date with the command table; run SHOAL_BLESS=1 cargo test -p shoal-server --test compat_doc"
        );
    }
}
