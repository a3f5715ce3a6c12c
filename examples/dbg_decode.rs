fn main() {
    for line in std::io::stdin().lines() {
        let line = line.unwrap();
        println!("{:?}", faultline::record::decode(line.as_bytes()));
    }
}
