"""Credit reports (信用报告): a subject's public record as a printable report, and whether a
printed one was issued by this hub."""
