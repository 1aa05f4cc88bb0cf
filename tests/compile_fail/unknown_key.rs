fn main() {
    tracing_audit::update!(model: "Product", id: 42, colour: "red");
    tracing_audit::login!(user: 7, colour: "red");
}
