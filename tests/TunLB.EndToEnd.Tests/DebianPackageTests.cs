using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// scripts/package-deb as a user runs it: the package builds lintian-clean, installs on this machine, its
/// binary runs from the installed files (version, --check of the shipped examples, the provider list, man
/// pages, bash completion, systemd units), and a purge removes every file and the tunlb user.
/// </summary>
public sealed class DebianPackageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-deb-").FullName;

    public void Dispose()
    {
        if (Installed()) Sh.Run("dpkg", ["--purge", "tunlb"], 120_000);
        try { Directory.Delete(_dir, true); } catch { }
    }

    private static bool Installed() =>
        Sh.Run("dpkg-query", ["-W", "-f=${Status}", "tunlb"]).Stdout.Contains("install ok installed", StringComparison.Ordinal);

    private static Sh.Result Run(string file, params string[] args) => Sh.Run(file, args, 120_000);

    [Fact]
    public void PackageBuildsCleanInstallsRunsAndPurgesWithoutTrace()
    {
        Assert.True(Tunlb.IsRoot, "installing a package needs root");
        Assert.False(Installed(), "a tunlb package is already installed on this machine; remove it before running this test");
        Assert.False(File.Exists("/usr/bin/tunlb"), "/usr/bin/tunlb exists but no package owns it");

        var build = Sh.Run(Path.Combine(Tunlb.RepoRoot(), "scripts", "package-deb"), ["--out", _dir], 1_800_000);
        Assert.True(build.ExitCode == 0, $"package-deb failed ({build.ExitCode}):\n{build.Stderr}\n{build.Stdout}");
        var deb = build.Stdout.Trim().Split('\n')[^1];
        Assert.True(File.Exists(deb), deb);

        var version = Run(Path.Combine(_dir, "publish", "tunlb"), "--version").Stdout.Trim();
        var info = Run("dpkg-deb", "-f", deb, "Package", "Version", "Architecture").Stdout;
        Assert.Contains("Package: tunlb", info);
        Assert.Contains($"Version: {version[..version.IndexOf('+')]}+git{version[(version.IndexOf('+') + 1)..][..10]}", info);
        var files = Run("dpkg-deb", "-c", deb).Stdout;
        foreach (var f in new[] { "./usr/lib/tunlb/tunlb", "./usr/bin/tunlb -> ../lib/tunlb/tunlb", "./lib/systemd/system/tunlb-director.service",
                     "./lib/systemd/system/tunlb-realserver.service", "./etc/tunlb/director.toml.example", "./etc/tunlb/realserver.toml.example",
                     "./usr/share/man/man8/tunlb.8.gz", "./usr/share/man/man5/tunlb.toml.5.gz", "./usr/share/bash-completion/completions/tunlb",
                     "./usr/share/doc/tunlb/copyright", "./usr/lib/tunlb/data/" })
            Assert.Contains(f, files);

        try
        {
            var install = Run("dpkg", "-i", deb);
            Assert.True(install.ExitCode == 0, install.Stderr + install.Stdout);
            Assert.Contains("tunlb:", Run("getent", "passwd", "tunlb").Stdout);

            // The installed binary needs no SDK or runtime: run it with a PATH and environment that has none.
            Sh.Result FromPackage(params string[] a)
            {
                var r = Sh.Run("env", ["-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DOTNET_ROOT=/nonexistent", "/usr/bin/tunlb", .. a], 60_000);
                return r with { Stdout = r.Stdout + r.Stderr };
            }
            Assert.Equal(version, FromPackage("--version").Stdout.Trim());
            var check = FromPackage("director", "--config", "/etc/tunlb/director.toml.example", "--check");
            Assert.True(check.ExitCode == 0, check.Stdout);
            Assert.Contains("ok: 1 service(s)", check.Stdout);
            check = FromPackage("realserver", "--config", "/etc/tunlb/realserver.toml.example", "--check");
            Assert.True(check.ExitCode == 0, check.Stdout);
            var bad = Path.Combine(_dir, "bad.toml");
            File.WriteAllText(bad, File.ReadAllText("/etc/tunlb/director.toml.example").Replace("scheduler = \"wlc\"", "scheduler = \"nope\""));
            check = FromPackage("director", "--config", bad, "--check");
            Assert.Equal(1, check.ExitCode);
            Assert.Contains("service[0].scheduler", check.Stdout);
            var isp = FromPackage("isp", "list");
            Assert.True(isp.ExitCode == 0, isp.Stdout);

            // Man pages render without groff warnings; completion offers the subcommands and adm's options.
            foreach (var page in new[] { "/usr/share/man/man8/tunlb.8.gz", "/usr/share/man/man5/tunlb.toml.5.gz" })
            {
                var man = Sh.Run("sh", ["-c", $"zcat {page} | MANWIDTH=80 groff -man -Tutf8 -ww -z 2>&1"]);
                Assert.True(man.Stdout.Trim().Length == 0, page + ": " + man.Stdout);
            }
            Assert.Contains("tunlb.toml", Run("sh", "-c", "MANWIDTH=80 man 5 tunlb.toml | head -5").Stdout, StringComparison.OrdinalIgnoreCase);
            var comp = Run("bash", "-c",
                "source /usr/share/bash-completion/completions/tunlb; COMP_LINE='tunlb di'; COMP_POINT=8; COMP_WORDS=(tunlb di); COMP_CWORD=1; _tunlb; echo \"${COMPREPLY[*]}\";" +
                "COMP_LINE='tunlb adm --sch'; COMP_POINT=15; COMP_WORDS=(tunlb adm --sch); COMP_CWORD=2; _tunlb; echo \"${COMPREPLY[*]}\"");
            var lines = comp.Stdout.Trim().Split('\n');
            Assert.Equal("director", lines[0].Trim());
            Assert.Equal("--sched-flags --scheduler", lines[1].Trim());

            // The units point at the installed binary, run as the tunlb user and keep only the network capabilities.
            var unit = File.ReadAllText("/lib/systemd/system/tunlb-director.service");
            Assert.Contains("ExecStart=/usr/bin/tunlb director --config /etc/tunlb/director.toml", unit);
            Assert.Contains("CAP_NET_ADMIN", unit);
            if (Sh.Exists("systemd-analyze"))
            {
                var verify = Run("systemd-analyze", "verify", "/lib/systemd/system/tunlb-director.service", "/lib/systemd/system/tunlb-realserver.service");
                Assert.True(verify.ExitCode == 0, verify.Stderr + verify.Stdout);
            }
        }
        finally
        {
            var purge = Run("dpkg", "--purge", "tunlb");
            Assert.True(purge.ExitCode == 0, purge.Stderr + purge.Stdout);
        }
        Assert.False(Installed());
        foreach (var gone in new[] { "/usr/bin/tunlb", "/usr/lib/tunlb", "/etc/tunlb", "/lib/systemd/system/tunlb-director.service",
                     "/usr/share/man/man8/tunlb.8.gz", "/usr/share/bash-completion/completions/tunlb", "/usr/share/doc/tunlb" })
            Assert.False(File.Exists(gone) || Directory.Exists(gone), gone + " is left after purge");
        Assert.Equal(2, Run("getent", "passwd", "tunlb").ExitCode);
    }
}
