namespace TunLB.LabBench;

public static class Report
{
    public static int Write(string? micro, string? memory, string? lab, string output, bool quick, string command)
    {
        Console.WriteLine("report: not written yet");
        return 0;
    }
}
