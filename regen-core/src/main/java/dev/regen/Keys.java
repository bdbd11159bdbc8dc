package dev.regen;

/**
 * How cache keys are spelled: {@code <path-and-query> @<host>}, and for a variant of a URL that varies
 * {@code <path-and-query> @<host> ~<variant id>}. The path comes first so that one store listing by
 * path prefix finds a page on every public host and every variant of it (revalidation by path).
 * Canonical targets and host names never contain a space.
 */
final class Keys {
    private Keys() {}

    static String url(String pathAndQuery, String host) {
        return pathAndQuery + " @" + host;
    }

    static String variant(String urlKey, String variantId) {
        return urlKey + " ~" + variantId;
    }

    /** The path and query of any key. */
    static String path(String key) {
        int at = key.indexOf(" @");
        return at < 0 ? key : key.substring(0, at);
    }

    /** The public host of any key. */
    static String host(String key) {
        int at = key.indexOf(" @");
        int tilde = key.indexOf(" ~", at + 2);
        return key.substring(at + 2, tilde < 0 ? key.length() : tilde);
    }

    /** The URL key of a variant key (itself for a URL key). */
    static String url(String key) {
        int tilde = key.indexOf(" ~");
        return tilde < 0 ? key : key.substring(0, tilde);
    }

    /** The listing prefix of every variant of a URL. */
    static String variantsOf(String urlKey) {
        return urlKey + " ~";
    }
}
