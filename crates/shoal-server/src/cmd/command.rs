//! COMMAND and its subcommands, generated from the core's command table.

use bytes::Bytes;
use shoal_core::args::is;
use shoal_core::table::{self, CommandSpec, flags};
use shoal_resp::Frame;

use super::connection::help;
use crate::connection::Session;

fn info_entry(spec: &CommandSpec, full_name: &str) -> Frame {
    let fl = flags::NAMES
        .iter()
        .filter(|(bit, _)| spec.flags & bit != 0)
        .map(|(_, n)| Frame::simple(n))
        .collect();
    let acl = spec
        .acl
        .iter()
        .map(|c| Frame::Simple(Bytes::from(format!("@{c}"))))
        .collect();
    let subs = spec
        .subcommands
        .iter()
        .map(|s| info_entry(s, &format!("{full_name}|{}", s.name)))
        .collect();
    Frame::Array(vec![
        Frame::Bulk(Bytes::from(full_name.to_string())),
        Frame::Integer(i64::from(spec.arity)),
        Frame::Set(fl),
        Frame::Integer(i64::from(spec.first_key)),
        Frame::Integer(i64::from(spec.last_key)),
        Frame::Integer(i64::from(spec.step)),
        Frame::Set(acl),
        Frame::Array(vec![]),
        Frame::Array(vec![]),
        Frame::Array(subs),
    ])
}

fn docs_entry(spec: &CommandSpec, full_name: &str) -> Frame {
    let mut fields = vec![
        (
            Frame::bulk(b"summary"),
            Frame::Bulk(Bytes::from_static(spec.summary.as_bytes())),
        ),
        (
            Frame::bulk(b"since"),
            Frame::Bulk(Bytes::from_static(spec.since.as_bytes())),
        ),
        (
            Frame::bulk(b"group"),
            Frame::Bulk(Bytes::from_static(spec.group.as_bytes())),
        ),
    ];
    if !spec.subcommands.is_empty() {
        let subs = spec
            .subcommands
            .iter()
            .map(|s| {
                let n = format!("{full_name}|{}", s.name);
                (Frame::Bulk(Bytes::from(n.clone())), docs_entry(s, &n))
            })
            .collect();
        fields.push((Frame::bulk(b"subcommands"), Frame::Map(subs)));
    }
    Frame::Map(fields)
}

pub fn command(_s: &mut Session, name: &str, args: &[Bytes]) -> Frame {
    match name {
        "command" => Frame::Array(table::all().map(|s| info_entry(s, s.name)).collect()),
        "command|count" => Frame::Integer(table::all().count() as i64),
        "command|info" => {
            if args.len() == 2 {
                return Frame::Array(table::all().map(|s| info_entry(s, s.name)).collect());
            }
            Frame::Array(
                args[2..]
                    .iter()
                    .map(|n| match table::get(n) {
                        Some(s) => info_entry(s, s.name),
                        None => Frame::Null,
                    })
                    .collect(),
            )
        }
        "command|docs" => {
            let specs: Vec<&CommandSpec> = if args.len() == 2 {
                table::all().collect()
            } else {
                args[2..].iter().filter_map(|n| table::get(n)).collect()
            };
            Frame::Map(
                specs
                    .into_iter()
                    .map(|s| (Frame::bulk(s.name.as_bytes()), docs_entry(s, s.name)))
                    .collect(),
            )
        }
        "command|list" => {
            let mut names: Vec<&str> = Vec::new();
            let filter = if args.len() == 5 && is(&args[2], "FILTERBY") {
                Some((&args[3], &args[4]))
            } else if args.len() == 2 {
                None
            } else {
                return Frame::static_error(shoal_core::error::SYNTAX);
            };
            for s in table::all() {
                let keep = match filter {
                    None => true,
                    Some((k, v)) if is(k, "PATTERN") => {
                        shoal_core::glob::matches_case(v, s.name.as_bytes(), true)
                    }
                    Some((k, v)) if is(k, "ACLCAT") => s.acl.iter().any(|c| is(v, c)),
                    Some((k, _)) if is(k, "MODULE") => false,
                    Some(_) => return Frame::static_error(shoal_core::error::SYNTAX),
                };
                if keep {
                    names.push(s.name);
                }
            }
            Frame::Array(
                names
                    .into_iter()
                    .map(|n| Frame::bulk(n.as_bytes()))
                    .collect(),
            )
        }
        "command|getkeys" => {
            let cmd = &args[2..];
            let spec = match table::lookup(cmd) {
                table::Lookup::Found(s, _) if !s.has(flags::INTERNAL) => s,
                _ => {
                    return if table::get(&cmd[0]).is_none() {
                        Frame::static_error("ERR Invalid command specified")
                    } else {
                        Frame::static_error("ERR Invalid number of arguments specified for command")
                    };
                }
            };
            // Shard channels have key positions (for slot routing) but Redis marks them
            // `not_key`: COMMAND GETKEYS does not report them.
            let keys = if spec.has(flags::PUBSUB) {
                Vec::new()
            } else {
                spec.key_positions(cmd)
            };
            if keys.is_empty() {
                return Frame::static_error("ERR The command has no key arguments");
            }
            Frame::Array(
                keys.into_iter()
                    .filter_map(|i| cmd.get(i).cloned().map(Frame::Bulk))
                    .collect(),
            )
        }
        "command|help" => help(&[
            "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "(no subcommand)",
            "    Return details about all Redis commands.",
            "COUNT",
            "    Return the total number of commands in this Redis server.",
            "LIST",
            "    Return a list of all commands in this Redis server.",
            "INFO [<command-name> ...]",
            "    Return details about multiple Redis commands.",
            "DOCS [<command-name> ...]",
            "    Return documentation details about multiple Redis commands.",
            "GETKEYS <full-command>",
            "    Return the keys from a full Redis command.",
            "HELP",
            "    Print this help.",
        ]),
        _ => shoal_core::table::unknown_command(args),
    }
}
