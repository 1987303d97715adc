// The Go app: the same charts as ../typescript/main.ts. Usage: go run . <outdir> [conflict|skip]
package main

import (
	"fmt"
	"os"

	"github.com/aws/jsii-runtime-go"
	"github.com/cdk8s-identity-health/cdk8s-identity-health-go/cdk8sidentityhealth"
	"github.com/cdk8s-team/cdk8s-core-go/cdk8s/v2"
	"github.com/cdk8s-team/cdk8s-plus-go/cdk8splus27/v2"
)

func main() {
	outdir := os.Args[1]
	app := cdk8s.NewApp(&cdk8s.AppProps{Outdir: jsii.String(outdir)})

	mode := ""
	if len(os.Args) > 2 {
		mode = os.Args[2]
	}
	if mode == "conflict" || mode == "skip" {
		// A container that already has a readiness probe: the default onConflict ERROR fails
		// synthesis; SKIP leaves the workload as it is and lists it.
		chart := cdk8s.NewChart(app, jsii.String("conflict"), nil)
		legacy := cdk8splus27.NewDeployment(chart, jsii.String("legacy"), &cdk8splus27.DeploymentProps{
			Containers: &[]*cdk8splus27.ContainerProps{{
				Image:      jsii.String("myregistry.azurecr.io/legacy:1.0.0"),
				PortNumber: jsii.Number(8080),
				Readiness:  cdk8splus27.Probe_FromHttpGet(jsii.String("/healthz"), nil),
			}},
		})
		if mode == "skip" {
			mixin := cdk8sidentityhealth.NewIdentityProbes(&cdk8sidentityhealth.IdentityProbesOptions{OnConflict: cdk8sidentityhealth.ConflictPolicy_SKIP})
			chart.With(mixin)
			app.Synth()
			for _, s := range *mixin.Skipped() {
				fmt.Printf("SKIPPED: %s: %s\n", *s.Path, *s.Reason)
			}
			return
		}
		cdk8sidentityhealth.Strategies_WithIdentityProbes(legacy, nil)
		defer func() {
			// jsii raises the TypeScript error as a Go panic.
			if r := recover(); r != nil {
				fmt.Printf("ERROR: %v\n", r)
			}
		}()
		app.Synth()
		return
	}

	// One workload.
	orders := cdk8s.NewChart(app, jsii.String("orders"), nil)
	web := cdk8splus27.NewDeployment(orders, jsii.String("web"), &cdk8splus27.DeploymentProps{
		Containers: &[]*cdk8splus27.ContainerProps{{
			Image:      jsii.String("myregistry.azurecr.io/orders:1.4.2"),
			PortNumber: jsii.Number(8080),
		}},
	})
	cdk8sidentityhealth.Strategies_WithIdentityProbes(web, &cdk8sidentityhealth.IdentityProbesOptions{
		ClientId:           jsii.String("00000000-0000-0000-0000-000000000000"),
		Resource:           jsii.String("https://vault.azure.net"),
		PodIdentityBinding: jsii.String("orders-identity"),
		Readiness:          &cdk8sidentityhealth.ProbeTimingOptions{PeriodSeconds: cdk8s.Duration_Seconds(jsii.Number(5))},
		Resources:          &cdk8sidentityhealth.ResourceOptions{CpuLimit: jsii.String("200m")},
	})

	// A whole chart.
	workers := cdk8s.NewChart(app, jsii.String("workers"), nil)
	cdk8splus27.NewDeployment(workers, jsii.String("worker"), &cdk8splus27.DeploymentProps{
		Containers: &[]*cdk8splus27.ContainerProps{{Image: jsii.String("myregistry.azurecr.io/worker:2.0.0")}},
	})
	cdk8splus27.NewJob(workers, jsii.String("migrate"), &cdk8splus27.JobProps{
		Containers: &[]*cdk8splus27.ContainerProps{{Image: jsii.String("myregistry.azurecr.io/migrate:2.0.0")}},
	})
	workers.With(cdk8sidentityhealth.NewNmiInitCheck(&cdk8sidentityhealth.NmiInitCheckOptions{
		Client:   cdk8sidentityhealth.HttpClient_WGET,
		Deadline: cdk8s.Duration_Minutes(jsii.Number(5)),
		Interval: jsii.Number(3),
	}))

	// Workload identity on a chart: the ServiceAccount gets the client-id annotation.
	billing := cdk8s.NewChart(app, jsii.String("billing"), nil)
	sa := cdk8splus27.NewServiceAccount(billing, jsii.String("sa"), nil)
	cdk8splus27.NewDeployment(billing, jsii.String("api"), &cdk8splus27.DeploymentProps{
		ServiceAccount: sa,
		Containers: &[]*cdk8splus27.ContainerProps{{
			Image:      jsii.String("myregistry.azurecr.io/billing:3.1.0"),
			PortNumber: jsii.Number(8080),
		}},
	})
	billing.With(cdk8sidentityhealth.NewWorkloadIdentityProbes(&cdk8sidentityhealth.WorkloadIdentityProbesOptions{
		ClientId:     jsii.String("11111111-1111-1111-1111-111111111111"),
		ProxySidecar: jsii.Bool(true),
		OnConflict:   cdk8sidentityhealth.ConflictPolicy_SIDECAR,
	}))
	app.Synth()
}
