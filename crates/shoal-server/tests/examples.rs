//! The Python examples in `examples/` (the users' guide's Streams quick reference, single
//! node and through redis-py's cluster client) run against a fresh shoal.
//!
//! They need `python3` with the `redis` module (`pip install redis`). If either is
//! missing the test fails and says so: a skipped example is not a passing one.

mod common;
use std::path::PathBuf;
use std::process::Command;

use common::Shoal;

fn examples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn require_python_redis() {
    let out = Command::new("python3")
        .args([
            "-c",
            "import redis, redis.cluster; print(redis.__version__)",
        ])
        .output();
    match out {
        Err(e) => panic!("python3 is required to run the examples (apt-get install python3): {e}"),
        Ok(o) if !o.status.success() => panic!(
            "python3's redis module is required to run the examples (pip install redis): {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Ok(_) => {}
    }
}

fn run_example(script: &str, port: u16) {
    let out = Command::new("python3")
        .arg(examples_dir().join(script))
        .arg("127.0.0.1")
        .arg(port.to_string())
        .current_dir(examples_dir())
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{script} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(
        stdout.contains("checks passed"),
        "{script} printed no summary:\n{stdout}"
    );
}

#[test]
fn streams_quickref_py() {
    require_python_redis();
    let shoal = Shoal::start();
    // Twice: the second run meets the existing group (BUSYGROUP) as a user would.
    run_example("streams_quickref.py", shoal.port);
    run_example("streams_quickref.py", shoal.port);
}

#[test]
fn streams_cluster_py() {
    require_python_redis();
    let shoal = Shoal::start();
    run_example("streams_cluster.py", shoal.port);
    run_example("streams_cluster.py", shoal.port);
}
