"""Which course a command works on, and where in it nbgrader's folders are."""

from grader.course import REPO_ROOT, Course


def test_outside_any_course_the_checkout_is_the_course(tmp_path):
    assert Course.find(start=tmp_path).root == REPO_ROOT


def test_the_nearest_course_around_the_working_folder_is_found(tmp_path):
    course = Course.scratch_copy(Course(), tmp_path / "course")
    deep = course.root / "solutions" / "02_padding"
    assert Course.find(start=deep).root == course.root


def test_a_folder_with_only_a_config_is_passed_over(tmp_path):
    """nbgrader_config.py alone (a student's bundle, a scratch folder) is not a course."""
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert Course.find(start=tmp_path).root == REPO_ROOT


def test_nbgraders_folders_come_from_the_courses_own_config(tmp_path):
    course = Course.scratch_copy(Course(), tmp_path / "course")
    config = course.root / "nbgrader_config.py"
    config.write_text(
        config.read_text() + '\nc.CourseDirectory.submitted_directory = "handed_in"\n'
        'c.CourseDirectory.feedback_directory = "returned"\n'
    )
    course = Course(course.root)
    assert course.submission_dir("ada", "01_pooling") == course.root / "handed_in/ada/01_pooling"
    assert course.feedback_file("ada", "01_pooling", "01_pooling") == (
        course.root / "returned/ada/01_pooling/01_pooling.html"
    )
    assert course.solution_notebooks("01_pooling") == [
        course.root / "solutions/01_pooling/01_pooling.ipynb"
    ]


def test_a_course_with_nbgraders_default_source_folder_is_found(tmp_path):
    """A course laid out as nbgrader's docs do (source/, not solutions/) is a course."""
    root = tmp_path / "course"
    (root / "source" / "ps1").mkdir(parents=True)
    (root / "source" / "ps1" / "ps1.ipynb").write_text("{}")
    (root / "nbgrader_config.py").write_text(
        'c = get_config()\nc.CourseDirectory.source_directory = "source"\n'
        'c.CourseDirectory.db_url = "sqlite:////srv/grades/ps.db"\n'
    )
    course = Course.find(start=root / "source" / "ps1")
    assert course.root == root
    assert course.solution_notebooks("ps1") == [root / "source" / "ps1" / "ps1.ipynb"]
    assert course.db_url == "sqlite:////srv/grades/ps.db"  # nbgrader's, as the config sets it
