// The Java app: the same charts as ../typescript/main.ts. Usage: java example.Main <outdir> [conflict|skip]
package example;

import io.github.cdk8s_identity_health.ConflictPolicy;
import io.github.cdk8s_identity_health.HttpClient;
import io.github.cdk8s_identity_health.IdentityProbes;
import io.github.cdk8s_identity_health.IdentityProbesOptions;
import io.github.cdk8s_identity_health.NmiInitCheck;
import io.github.cdk8s_identity_health.NmiInitCheckOptions;
import io.github.cdk8s_identity_health.ProbeTimingOptions;
import io.github.cdk8s_identity_health.ResourceOptions;
import io.github.cdk8s_identity_health.SkippedWorkload;
import io.github.cdk8s_identity_health.Strategies;
import io.github.cdk8s_identity_health.WorkloadIdentityProbes;
import io.github.cdk8s_identity_health.WorkloadIdentityProbesOptions;
import java.util.List;
import org.cdk8s.App;
import org.cdk8s.AppProps;
import org.cdk8s.Chart;
import org.cdk8s.Duration;
import org.cdk8s.plus27.ContainerProps;
import org.cdk8s.plus27.Deployment;
import org.cdk8s.plus27.Job;
import org.cdk8s.plus27.Probe;
import org.cdk8s.plus27.ServiceAccount;

public final class Main {
  public static void main(String[] args) {
    App app = new App(AppProps.builder().outdir(args[0]).build());

    String mode = args.length > 1 ? args[1] : "";
    if (mode.equals("conflict") || mode.equals("skip")) {
      // A container that already has a readiness probe: the default onConflict ERROR fails
      // synthesis; SKIP leaves the workload as it is and lists it.
      Chart chart = new Chart(app, "conflict");
      Deployment legacy = Deployment.Builder.create(chart, "legacy")
          .containers(List.of(ContainerProps.builder()
              .image("myregistry.azurecr.io/legacy:1.0.0").portNumber(8080).readiness(Probe.fromHttpGet("/healthz")).build()))
          .build();
      if (mode.equals("skip")) {
        IdentityProbes mixin = new IdentityProbes(IdentityProbesOptions.builder().onConflict(ConflictPolicy.SKIP).build());
        chart.with(mixin);
        app.synth();
        for (SkippedWorkload s : mixin.getSkipped()) {
          System.out.println("SKIPPED: " + s.getPath() + ": " + s.getReason());
        }
        return;
      }
      Strategies.withIdentityProbes(legacy);
      try {
        app.synth();
      } catch (RuntimeException e) { // jsii raises the TypeScript error as a JsiiError
        System.out.println("ERROR: " + e.getMessage());
      }
      return;
    }

    // One workload.
    Chart orders = new Chart(app, "orders");
    Deployment web = Deployment.Builder.create(orders, "web")
        .containers(List.of(ContainerProps.builder().image("myregistry.azurecr.io/orders:1.4.2").portNumber(8080).build()))
        .build();
    Strategies.withIdentityProbes(web, IdentityProbesOptions.builder()
        .clientId("00000000-0000-0000-0000-000000000000")
        .resource("https://vault.azure.net")
        .podIdentityBinding("orders-identity")
        .readiness(ProbeTimingOptions.builder().periodSeconds(Duration.seconds(5)).build())
        .resources(ResourceOptions.builder().cpuLimit("200m").build())
        .build());

    // A whole chart.
    Chart workers = new Chart(app, "workers");
    Deployment.Builder.create(workers, "worker")
        .containers(List.of(ContainerProps.builder().image("myregistry.azurecr.io/worker:2.0.0").build()))
        .build();
    Job.Builder.create(workers, "migrate")
        .containers(List.of(ContainerProps.builder().image("myregistry.azurecr.io/migrate:2.0.0").build()))
        .build();
    workers.with(new NmiInitCheck(NmiInitCheckOptions.builder()
        .client(HttpClient.WGET).deadline(Duration.minutes(5)).interval(3).build()));

    // Workload identity on a chart: the ServiceAccount gets the client-id annotation.
    Chart billing = new Chart(app, "billing");
    ServiceAccount sa = new ServiceAccount(billing, "sa");
    Deployment.Builder.create(billing, "api").serviceAccount(sa)
        .containers(List.of(ContainerProps.builder().image("myregistry.azurecr.io/billing:3.1.0").portNumber(8080).build()))
        .build();
    billing.with(new WorkloadIdentityProbes(WorkloadIdentityProbesOptions.builder()
        .clientId("11111111-1111-1111-1111-111111111111").proxySidecar(true).onConflict(ConflictPolicy.SIDECAR).build()));
    app.synth();
  }
}
