use cityledger_types::smt::SparseMerkleTree;
use std::time::Instant;
fn key(i: u64) -> Vec<u8> {
    [&b"acct/"[..], &i.to_be_bytes()].concat()
}
fn main() {
    let mut s = 0x1234u64;
    let mut rnd = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut tree =
        SparseMerkleTree::from_entries((0..1_000_000u64).map(|i| (key(i), vec![0u8; 16])));
    let n = 60;
    let batches: Vec<Vec<(Vec<u8>, Option<Vec<u8>>)>> = (0..n)
        .map(|_| {
            (0..20_000)
                .map(|_| (key(rnd() % 1_000_000), Some(rnd().to_le_bytes().repeat(2))))
                .collect()
        })
        .collect();
    let t = Instant::now();
    for b in batches {
        tree.apply_in_place(b);
    }
    println!(
        "in place: {:.2} us/update",
        t.elapsed().as_secs_f64() * 1e6 / (n as f64 * 20_000.0)
    );
    std::process::exit(0);
}
