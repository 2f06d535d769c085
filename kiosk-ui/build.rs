fn main() {
    // Element names in the generated code let the screen tests find every
    // Label (ElementHandle API); they cost a few kilobytes.
    let config = slint_build::CompilerConfiguration::new().with_debug_info(true);
    slint_build::compile_with_config("ui/kiosk.slint", config)
        .expect("the kiosk's .slint files compile");
}
