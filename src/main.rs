use std::path::Path;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let c = hebb::driver::load(Path::new(&args[1]), &[]).unwrap();
    print!("{}", hebb::diag::render(&c.diags, &c.sources, hebb::diag::Style::Plain));
    println!("errors: {} parse {:?} check {:?}", c.has_errors(), c.parse_time, c.check_time);
}
