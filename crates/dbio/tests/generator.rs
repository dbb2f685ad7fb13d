//! The generator alone (no server): determinism, row counts, name skew.

use dbio::dataset::generate::TEST_DB_COUNTS;
use dbio::dataset::schema::Table;
use dbio::dataset::{Generator, Spec};

#[test]
fn same_scale_and_seed_give_identical_rows() {
    let spec = Spec::new(0.01, 7).expect("spec");
    let (a, b) = (Generator::new(spec), Generator::new(spec));
    for table in Table::ALL {
        let (x, y) = (a.table(table), b.table(table));
        assert_eq!(x.tsv, y.tsv, "{table}");
        assert_eq!((x.rows, x.crc_sum), (y.rows, y.crc_sum), "{table}");
    }
    let other = Generator::new(Spec::new(0.01, 8).expect("spec"));
    assert_ne!(
        a.table(Table::Employees).tsv,
        other.table(Table::Employees).tsv
    );
    assert_ne!(
        a.table(Table::Salaries).crc_sum,
        other.table(Table::Salaries).crc_sum
    );
}

#[test]
fn scale_one_has_test_db_row_counts_exactly() {
    let g = Generator::new(Spec::new(1.0, 42).expect("spec"));
    for (table, count) in TEST_DB_COUNTS {
        let data = g.table(table);
        assert_eq!(data.rows, count, "{table}");
        assert_eq!(
            data.tsv.iter().filter(|&&b| b == b'\n').count() as u64,
            count,
            "{table}"
        );
    }
}

#[test]
fn other_scales_are_proportional_but_departments_and_managers_stay() {
    let spec = Spec::new(0.01, 42).expect("spec");
    let g = Generator::new(spec);
    let rows = |t| g.table(t).rows;
    assert_eq!(rows(Table::Employees), 3000);
    assert_eq!(rows(Table::DeptEmp), 3316);
    assert_eq!(rows(Table::Titles), 4433);
    assert_eq!(rows(Table::Salaries), 28440);
    assert_eq!(rows(Table::Departments), 9);
    assert_eq!(rows(Table::DeptManager), 24);
    assert!(Spec::new(0.0, 1).is_err());
    assert!(Spec::new(f64::NAN, 1).is_err());
}

#[test]
fn first_names_start_with_every_letter_with_a_skew() {
    let g = Generator::new(Spec::new(0.1, 42).expect("spec"));
    let data = g.table(Table::Employees);
    let mut per_letter = [0u64; 26];
    for line in data.tsv.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let first_name = line.split(|&b| b == b'\t').nth(2).expect("first_name");
        assert!(first_name.len() <= 14);
        per_letter[usize::from(first_name[0] - b'A')] += 1;
    }
    let (min, max) = (
        per_letter.iter().min().copied(),
        per_letter.iter().max().copied(),
    );
    let (min, max) = (min.unwrap_or(0), max.unwrap_or(0));
    assert!(min > 0, "a letter has no first names: {per_letter:?}");
    assert!(max >= 10 * min, "no skew: {per_letter:?}");
}
