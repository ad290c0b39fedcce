// The tests drive Linux components (docker-registry, dockerd, POSIX file modes); they run on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
