//! The employees schema: test_db's `employees.sql` tables, columns, types,
//! keys and views, plus dbio's own bookkeeping tables.

/// One of the dataset's six tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Table {
    Departments,
    Employees,
    DeptEmp,
    DeptManager,
    Titles,
    Salaries,
}

impl Table {
    /// The six tables, in load order (parents first).
    pub const ALL: [Table; 6] = [
        Table::Departments,
        Table::Employees,
        Table::DeptEmp,
        Table::DeptManager,
        Table::Titles,
        Table::Salaries,
    ];

    /// The table's name in SQL.
    pub fn name(self) -> &'static str {
        match self {
            Table::Departments => "departments",
            Table::Employees => "employees",
            Table::DeptEmp => "dept_emp",
            Table::DeptManager => "dept_manager",
            Table::Titles => "titles",
            Table::Salaries => "salaries",
        }
    }

    /// Columns, in order: what LOAD DATA and the checksum use.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Employees => &[
                "emp_no",
                "birth_date",
                "first_name",
                "last_name",
                "gender",
                "hire_date",
            ],
            Table::Departments => &["dept_no", "dept_name"],
            Table::DeptManager => &["emp_no", "dept_no", "from_date", "to_date"],
            Table::DeptEmp => &["emp_no", "dept_no", "from_date", "to_date"],
            Table::Titles => &["emp_no", "title", "from_date", "to_date"],
            Table::Salaries => &["emp_no", "salary", "from_date", "to_date"],
        }
    }

    /// The server-side checksum: row count and the sum of
    /// `CRC32(CONCAT_WS('#', columns...))` over its rows, which
    /// [`super::generate::TableData`] computes the same way while generating.
    pub fn checksum_sql(self) -> String {
        format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CRC32(CONCAT_WS('#', {}))), 0) AS UNSIGNED) FROM `{self}`",
            self.columns().join(", ")
        )
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Drops the dataset's views and tables (children first).
pub const DROP: &[&str] = &[
    "DROP VIEW IF EXISTS current_dept_emp, dept_emp_latest_date",
    "DROP TABLE IF EXISTS dept_emp, dept_manager, titles, salaries, employees, departments",
];

/// test_db's definitions.
pub const CREATE: &[&str] = &[
    "CREATE TABLE employees (
    emp_no      INT             NOT NULL,
    birth_date  DATE            NOT NULL,
    first_name  VARCHAR(14)     NOT NULL,
    last_name   VARCHAR(16)     NOT NULL,
    gender      ENUM ('M','F','NB','T')  NOT NULL,
    hire_date   DATE            NOT NULL,
    PRIMARY KEY (emp_no)
) ENGINE=InnoDB",
    "CREATE TABLE departments (
    dept_no     CHAR(4)         NOT NULL,
    dept_name   VARCHAR(40)     NOT NULL,
    PRIMARY KEY (dept_no),
    UNIQUE  KEY (dept_name)
) ENGINE=InnoDB",
    "CREATE TABLE dept_manager (
   emp_no       INT             NOT NULL,
   dept_no      CHAR(4)         NOT NULL,
   from_date    DATE            NOT NULL,
   to_date      DATE            NOT NULL,
   FOREIGN KEY (emp_no)  REFERENCES employees (emp_no)    ON DELETE CASCADE,
   FOREIGN KEY (dept_no) REFERENCES departments (dept_no) ON DELETE CASCADE,
   PRIMARY KEY (emp_no,dept_no)
) ENGINE=InnoDB",
    "CREATE TABLE dept_emp (
    emp_no      INT             NOT NULL,
    dept_no     CHAR(4)         NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE            NOT NULL,
    FOREIGN KEY (emp_no)  REFERENCES employees   (emp_no)  ON DELETE CASCADE,
    FOREIGN KEY (dept_no) REFERENCES departments (dept_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no,dept_no)
) ENGINE=InnoDB",
    "CREATE TABLE titles (
    emp_no      INT             NOT NULL,
    title       VARCHAR(50)     NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE,
    FOREIGN KEY (emp_no) REFERENCES employees (emp_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no,title, from_date)
) ENGINE=InnoDB",
    "CREATE TABLE salaries (
    emp_no      INT             NOT NULL,
    salary      INT             NOT NULL,
    from_date   DATE            NOT NULL,
    to_date     DATE            NOT NULL,
    FOREIGN KEY (emp_no) REFERENCES employees (emp_no) ON DELETE CASCADE,
    PRIMARY KEY (emp_no, from_date)
) ENGINE=InnoDB",
    "CREATE OR REPLACE VIEW dept_emp_latest_date AS
    SELECT emp_no, MAX(from_date) AS from_date, MAX(to_date) AS to_date
    FROM dept_emp
    GROUP BY emp_no",
    "CREATE OR REPLACE VIEW current_dept_emp AS
    SELECT l.emp_no, dept_no, l.from_date, l.to_date
    FROM dept_emp d
        INNER JOIN dept_emp_latest_date l
        ON d.emp_no=l.emp_no AND d.from_date=l.from_date AND l.to_date = d.to_date",
];

/// dbio's bookkeeping: what was loaded, whether the load finished, and each
/// table's row count and checksum at load time.
pub const CREATE_META: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS _dbio_meta (
    k VARCHAR(64) NOT NULL PRIMARY KEY,
    v VARCHAR(255) NOT NULL
) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS _dbio_checksums (
    table_name VARCHAR(64) NOT NULL PRIMARY KEY,
    row_count BIGINT NOT NULL,
    crc_sum BIGINT UNSIGNED NOT NULL,
    expected_rows BIGINT NULL
) ENGINE=InnoDB",
];
