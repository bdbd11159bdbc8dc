package dev.regen.internal.http;

/** The little HTML every edge writes itself: escaping, and Regen's own error page. */
public final class Html {
    private Html() {}

    /** Escapes text for an element or a quoted attribute. */
    public static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** Regen's own error page (400, 502, 504…): short, and saying what happened. */
    public static String errorPage(int status, String title, String reason) {
        return "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + status + " " + title
                + "</title></head><body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto\">"
                + "<h1>" + status + " " + title + "</h1><p>" + escape(reason) + "</p>"
                + "<p><small>Regen had no cached copy of this page to serve instead.</small></p></body></html>\n";
    }
}
