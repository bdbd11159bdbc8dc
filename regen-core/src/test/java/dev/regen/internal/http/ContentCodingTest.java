package dev.regen.internal.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContentCodingTest {

    @ParameterizedTest(name = "{0}: Accept-Encoding {1}, {2} -> {3}")
    @CsvSource(
            delimiter = '|',
            nullValues = "(none)",
            value = {
                "RFC 9110 §12.5.3 no field: identity only | (none) | identity | true",
                "RFC 9110 §12.5.3 no field: identity only | (none) | gzip | false",
                "RFC 9110 §12.5.3 empty field: identity only | '' | identity | true",
                "RFC 9110 §12.5.3 empty field: identity only | '' | br | false",
                "listed | gzip, br | br | true",
                "listed, any case | GZIP | gzip | true",
                "x-gzip is gzip (RFC 9110 §8.4.1.3) | x-gzip | gzip | true",
                "q=0 refuses | gzip;q=0, br | gzip | false",
                "q=0 with spaces refuses | br; q=0.0 | br | false",
                "a non-zero weight accepts | br;q=0.1 | br | true",
                "* covers what is not listed | * | br | true",
                "* with q=0 refuses what is not listed | *;q=0, gzip | br | false",
                "listed wins over * | *;q=0, br | br | true",
                "identity stays acceptable unless refused | gzip | identity | true",
                "identity;q=0 refuses it | gzip, identity;q=0 | identity | false",
                "*;q=0 refuses identity too | gzip, *;q=0 | identity | false",
                "not listed, no * | gzip | deflate | false",
                "a malformed weight does not refuse | br;q=x | br | true",
            })
    void accepts_table(String rule, String acceptEncoding, String coding, boolean expected) {
        assertThat(ContentCoding.accepts(acceptEncoding, coding)).as(rule).isEqualTo(expected);
        if (coding.equals("gzip")) {
            assertThat(Compression.acceptsGzip(acceptEncoding)).as(rule).isEqualTo(expected);
        }
    }
}
