package dev.regen.example;

import dev.regen.RegenCache;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.net.URI;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;

/**
 * The blog's pages. Nothing here knows about caching except two lines: the {@code Cache-Tag} header
 * that names what a page shows, and {@link RegenCache#revalidateTag} after an edit.
 */
@Controller
public class BlogController {
    private final PostRepository posts;
    private final RenderCounter renders;
    private final RegenCache cache;

    public BlogController(PostRepository posts, RenderCounter renders, RegenCache cache) {
        this.posts = posts;
        this.renders = renders;
        this.cache = cache;
    }

    @GetMapping("/")
    public String index(Model model, HttpServletResponse response) {
        response.setHeader("Cache-Tag", "posts");
        model.addAttribute("posts", posts.all());
        model.addAttribute("render", renders.render("/"));
        return "index";
    }

    @GetMapping("/posts/{id}")
    public String post(@PathVariable("id") int id, Model model, HttpServletResponse response) {
        Post post =
                posts.find(id).orElseThrow(() -> new ResponseStatusException(HttpStatus.NOT_FOUND, "no post " + id));
        response.setHeader("Cache-Tag", "posts, post-" + id);
        model.addAttribute("post", post);
        model.addAttribute("render", renders.render("/posts/" + id));
        return "post";
    }

    /**
     * Edits a post, then marks every page tagged {@code posts} stale: each is served once more as it
     * was and re-rendered in the background. (A real blog would put this behind a login.)
     */
    @PostMapping("/admin/posts/{id}")
    public ResponseEntity<Void> edit(
            @PathVariable("id") int id, @RequestParam("title") String title, @RequestParam("body") String body) {
        if (posts.update(id, title, body).isEmpty()) {
            throw new ResponseStatusException(HttpStatus.NOT_FOUND, "no post " + id);
        }
        cache.revalidateTag("posts");
        return ResponseEntity.status(HttpStatus.SEE_OTHER)
                .location(URI.create("/posts/" + id))
                .build();
    }

    /** A page that starts a session: its response sets a cookie, so Regen never stores it. */
    @GetMapping("/hello")
    public String hello(HttpSession session, Model model) {
        Integer visits = (Integer) session.getAttribute("visits");
        visits = visits == null ? 1 : visits + 1;
        session.setAttribute("visits", visits);
        model.addAttribute("visits", visits);
        model.addAttribute("render", renders.render("/hello"));
        return "hello";
    }
}
