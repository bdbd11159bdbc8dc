package dev.regen.example;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A small blog made with Spring Boot and Thymeleaf, cached by Regen through the starter alone: the
 * dependency and two properties ({@code regen.revalidate}, {@code regen.secret}) in application.properties.
 * Every page shows how many times and when it was rendered, so the cache can be seen at work.
 */
@SpringBootApplication
public class BlogApplication {
    public static void main(String[] args) {
        SpringApplication.run(BlogApplication.class, args);
    }
}
