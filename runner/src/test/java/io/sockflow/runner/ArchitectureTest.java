package io.sockflow.runner;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.ArchConfiguration;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The module's packages depend on each other one way: a cycle means two packages that cannot be read apart. */
class ArchitectureTest {
    /** The module's own classes, without the libraries they use (which would take seconds to read). */
    static JavaClasses mainClasses() {
        ArchConfiguration.get().setResolveMissingDependenciesFromClassPath(false);
        return new ClassFileImporter().importPath(Path.of("target/classes"));
    }

    @Test
    void packagesAreFreeOfCycles() {
        // each package is a slice of its own: "(**)" captures the whole name below io.sockflow
        slices().matching("io.sockflow.(**)").should().beFreeOfCycles().check(mainClasses());
    }
}
