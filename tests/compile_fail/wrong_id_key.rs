fn main() {
    tracing_audit::bulk_delete!(model: "Session", id: 7);
    tracing_audit::read!(id: 7, model: "Invoice");
}
