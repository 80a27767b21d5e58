//! Table entries of the commands the server executes itself: connection state, admin,
//! introspection and cluster topology. They have no parser here because they touch no
//! keys; the server matches on the spec's name.

use crate::table::{CommandSpec, flags::*};

const NONE: (i32, i32, i32) = (0, 0, 0);
const CONN: &[&str] = &["fast", "connection"];

const CLIENT_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "id",
        2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        &["slow", "connection"],
    ),
    CommandSpec::new(
        "setname",
        3,
        NOSCRIPT | LOADING | STALE,
        NONE,
        &["slow", "connection"],
    ),
    CommandSpec::new(
        "getname",
        2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        &["slow", "connection"],
    ),
    CommandSpec::new(
        "list",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        &["admin", "slow", "dangerous", "connection"],
    ),
    CommandSpec::new(
        "kill",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        &["admin", "slow", "dangerous", "connection"],
    ),
    CommandSpec::new(
        "info",
        2,
        NOSCRIPT | LOADING | STALE,
        NONE,
        &["slow", "connection"],
    ),
    CommandSpec::new(
        "setinfo",
        4,
        NOSCRIPT | LOADING | STALE,
        NONE,
        &["slow", "connection"],
    ),
    CommandSpec::new("help", 2, LOADING | STALE, NONE, &["slow", "connection"]),
];

const CONFIG_SUBS: &[CommandSpec] = &[
    CommandSpec::new(
        "get",
        -3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        &["admin", "slow", "dangerous"],
    ),
    CommandSpec::new(
        "set",
        -4,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        &["admin", "slow", "dangerous"],
    ),
    CommandSpec::new(
        "resetstat",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        NONE,
        &["admin", "slow", "dangerous"],
    ),
    CommandSpec::new("help", 2, LOADING | STALE, NONE, &["slow"]),
];

const COMMAND_SUBS: &[CommandSpec] = &[
    CommandSpec::new("count", 2, LOADING | STALE, NONE, &["slow", "connection"]),
    CommandSpec::new("info", -2, LOADING | STALE, NONE, &["slow", "connection"]),
    CommandSpec::new("docs", -2, LOADING | STALE, NONE, &["slow", "connection"]),
    CommandSpec::new("list", -2, LOADING | STALE, NONE, &["slow", "connection"]),
    CommandSpec::new(
        "getkeys",
        -4,
        LOADING | STALE,
        NONE,
        &["slow", "connection"],
    ),
    CommandSpec::new("help", 2, LOADING | STALE, NONE, &["slow", "connection"]),
];

const CLUSTER_SUBS: &[CommandSpec] = &[
    CommandSpec::new("info", 2, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("myid", 2, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("keyslot", 3, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("slots", 2, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("shards", 2, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("nodes", 2, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("countkeysinslot", 3, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("getkeysinslot", 4, LOADING | STALE, NONE, &["slow"]),
    CommandSpec::new("help", 2, LOADING | STALE, NONE, &["slow"]),
];

const PS: &[&str] = &["pubsub", "slow"];
const PS_SUB: u32 = PUBSUB | NOSCRIPT | LOADING | STALE;
const PS_INFO: u32 = PUBSUB | LOADING | STALE;

const PUBSUB_SUBS: &[CommandSpec] = &[
    CommandSpec::new("channels", -2, PS_INFO, NONE, PS).doc(
        "pubsub",
        "2.8.0",
        "List active channels",
    ),
    CommandSpec::new("numpat", 2, PS_INFO, NONE, PS).doc(
        "pubsub",
        "2.8.0",
        "Get the count of unique patterns pattern subscriptions",
    ),
    CommandSpec::new("numsub", -2, PS_INFO, NONE, PS).doc(
        "pubsub",
        "2.8.0",
        "Get the count of subscribers for channels",
    ),
    CommandSpec::new("shardchannels", -2, PS_INFO, NONE, PS).doc(
        "pubsub",
        "7.0.0",
        "List active shard channels",
    ),
    CommandSpec::new("shardnumsub", -2, PS_INFO, NONE, PS).doc(
        "pubsub",
        "7.0.0",
        "Get the count of subscribers for shard channels",
    ),
    CommandSpec::new("help", 2, LOADING | STALE, NONE, &["slow"]).doc(
        "pubsub",
        "6.2.0",
        "Show helpful text about the different subcommands",
    ),
];

/// Server-executed commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, FAST, NONE, CONN).doc(
        "connection",
        "1.0.0",
        "Returns the server's liveliness response.",
    ),
    CommandSpec::new("echo", 2, FAST, NONE, CONN).doc(
        "connection",
        "1.0.0",
        "Returns the given string.",
    ),
    CommandSpec::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        NONE,
        CONN,
    )
    .doc("connection", "6.0.0", "Handshakes with the Redis server."),
    CommandSpec::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        NONE,
        CONN,
    )
    .doc("connection", "1.0.0", "Authenticates the connection."),
    CommandSpec::new(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        NONE,
        CONN,
    )
    .doc("connection", "1.0.0", "Closes the connection."),
    CommandSpec::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        NONE,
        CONN,
    )
    .doc("connection", "6.2.0", "Resets the connection."),
    CommandSpec::new("select", 2, LOADING | STALE | FAST, NONE, CONN).doc(
        "connection",
        "1.0.0",
        "Changes the selected database.",
    ),
    CommandSpec::new("client", -2, 0, NONE, &["slow"])
        .subs(CLIENT_SUBS)
        .doc(
            "connection",
            "2.4.0",
            "A container for client connection commands.",
        ),
    CommandSpec::new("info", -1, LOADING | STALE, NONE, &["slow", "dangerous"]).doc(
        "server",
        "1.0.0",
        "Returns information and statistics about the server.",
    ),
    CommandSpec::new("time", 1, LOADING | STALE | FAST, NONE, &["fast"]).doc(
        "server",
        "2.6.0",
        "Returns the server time.",
    ),
    CommandSpec::new("config", -2, 0, NONE, &["slow"])
        .subs(CONFIG_SUBS)
        .doc(
            "server",
            "2.0.0",
            "A container for server configuration commands.",
        ),
    CommandSpec::new(
        "command",
        -1,
        LOADING | STALE,
        NONE,
        &["slow", "connection"],
    )
    .subs(COMMAND_SUBS)
    .doc(
        "server",
        "2.8.13",
        "Returns detailed information about all commands.",
    ),
    CommandSpec::new(
        "multi",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NONE,
        &["fast", "transaction"],
    )
    .doc("transactions", "1.2.0", "Starts a transaction."),
    CommandSpec::new(
        "exec",
        1,
        NOSCRIPT | LOADING | STALE | SKIP_SLOWLOG,
        NONE,
        &["slow", "transaction"],
    )
    .doc(
        "transactions",
        "1.2.0",
        "Executes all commands in a transaction.",
    ),
    CommandSpec::new(
        "discard",
        1,
        NOSCRIPT | LOADING | STALE | FAST | ALLOW_BUSY,
        NONE,
        &["fast", "transaction"],
    )
    .doc("transactions", "2.0.0", "Discards a transaction."),
    CommandSpec::new("cluster", -2, 0, NONE, &["slow"])
        .subs(CLUSTER_SUBS)
        .doc(
            "cluster",
            "3.0.0",
            "A container for Redis Cluster commands.",
        ),
    CommandSpec::new("readonly", 1, LOADING | STALE | FAST, NONE, CONN).doc(
        "cluster",
        "3.0.0",
        "Enables read-only queries for a connection to a Redis Cluster replica node.",
    ),
    CommandSpec::new("readwrite", 1, LOADING | STALE | FAST, NONE, CONN).doc(
        "cluster",
        "3.0.0",
        "Enables read-write queries for a connection to a Reids Cluster replica node.",
    ),
    // Pub/Sub. Shard channels are key positions so slot routing and CROSSSLOT apply.
    CommandSpec::new("subscribe", -2, PS_SUB, NONE, PS).doc(
        "pubsub",
        "2.0.0",
        "Listen for messages published to the given channels",
    ),
    CommandSpec::new("unsubscribe", -1, PS_SUB, NONE, PS).doc(
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to the given channels",
    ),
    CommandSpec::new("psubscribe", -2, PS_SUB, NONE, PS).doc(
        "pubsub",
        "2.0.0",
        "Listen for messages published to channels matching the given patterns",
    ),
    CommandSpec::new("punsubscribe", -1, PS_SUB, NONE, PS).doc(
        "pubsub",
        "2.0.0",
        "Stop listening for messages posted to channels matching the given patterns",
    ),
    CommandSpec::new("publish", 3, PS_INFO | FAST, NONE, &["pubsub", "fast"]).doc(
        "pubsub",
        "2.0.0",
        "Post a message to a channel",
    ),
    CommandSpec::new("pubsub", -2, 0, NONE, &["slow"])
        .subs(PUBSUB_SUBS)
        .doc("pubsub", "2.8.0", "A container for Pub/Sub commands"),
    CommandSpec::new("ssubscribe", -2, PS_SUB, (1, -1, 1), PS).doc(
        "pubsub",
        "7.0.0",
        "Listen for messages published to the given shard channels",
    ),
    CommandSpec::new("sunsubscribe", -1, PS_SUB, (1, -1, 1), PS).doc(
        "pubsub",
        "7.0.0",
        "Stop listening for messages posted to the given shard channels",
    ),
    CommandSpec::new(
        "spublish",
        3,
        PS_INFO | FAST,
        (1, 1, 1),
        &["pubsub", "fast"],
    )
    .doc("pubsub", "7.0.0", "Post a message to a shard channel"),
];
