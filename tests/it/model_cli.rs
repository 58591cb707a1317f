//! `cartkin models` run as a real binary.

fn cartkin(args: &[&str]) -> (i32, String, String) {
    let out = crate::common::cartkin(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lists_every_builtin_model_with_its_description() {
    let (code, stdout, stderr) = cartkin(&["models"]);
    assert_eq!(code, 0, "{stderr}");
    for name in cartkin::model::builtin_names() {
        let m = cartkin::model::Model::load(name).unwrap();
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{stdout}"));
        assert!(line.ends_with(m.description()), "{line}");
    }
    assert!(stdout.contains("Tisagenlecleucel expansion"));
}

#[test]
fn describes_one_model_and_refuses_an_unknown_one() {
    let (code, stdout, _) = cartkin(&["models", "stein2019"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("foldx"), "{stdout}");
    assert!(
        stdout.contains("transgene [copies/ug] error logadd(sigma), lloq 20"),
        "{stdout}"
    );
    let (code, _, stderr) = cartkin(&["models", "stein2091"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("did you mean `stein2019`?"), "{stderr}");
}
