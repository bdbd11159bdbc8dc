package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RangesTest {
    private static final String ETAG = "\"v1\"";
    private static final String MODIFIED = "Thu, 01 Jan 2026 00:00:00 GMT";

    @ParameterizedTest(name = "{0}: Range {1}, If-Range {2} -> {3}")
    @CsvSource(
            delimiter = ';',
            nullValues = "-",
            value = {
                "RFC 9110 §14.1.2 first-last; bytes=0-9; -; 206 0-9",
                "RFC 9110 §14.1.2 last past the end is clamped; bytes=90-200; -; 206 90-99",
                "RFC 9110 §14.1.2 open-ended; bytes=95-; -; 206 95-99",
                "RFC 9110 §14.1.2 suffix; bytes=-5; -; 206 95-99",
                "RFC 9110 §14.1.2 suffix longer than the body; bytes=-500; -; 206 0-99",
                "RFC 9110 §15.5.17 first past the end; bytes=100-; -; 416",
                "RFC 9110 §15.5.17 zero-length suffix; bytes=-0; -; 416",
                "RFC 9110 §14.1.1 last before first is invalid, ignored; bytes=9-3; -; 200",
                "RFC 9110 §14.2 several ranges may get the whole; bytes=0-1,5-6; -; 200",
                "RFC 9110 §14.2 another unit is ignored; items=0-1; -; 200",
                "RFC 9110 §14.2 garbage is ignored; bytes=a-b; -; 200",
                "RFC 9110 §13.1.5 If-Range with the entity tag; bytes=0-1; \"v1\"; 206 0-1",
                "RFC 9110 §13.1.5 If-Range with another tag; bytes=0-1; \"v0\"; 200",
                "RFC 9110 §13.1.5 If-Range never matches a weak tag; bytes=0-1; W/\"v1\"; 200",
                "RFC 9110 §13.1.5 If-Range with the exact date; bytes=0-1; Thu, 01 Jan 2026 00:00:00 GMT; 206 0-1",
            })
    void evaluate_table(String rule, String range, String ifRange, String expected) {
        Ranges.Outcome o = Ranges.evaluate(range, ifRange, ETAG, MODIFIED, 100);
        String got = o instanceof Ranges.Outcome.Partial p
                ? "206 " + p.first() + "-" + p.last()
                : o instanceof Ranges.Outcome.Unsatisfiable ? "416" : "200";
        assertThat(got).as(rule).isEqualTo(expected);
    }
}
